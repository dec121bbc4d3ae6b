package tfops

// Accessors the loss graphs need beyond the op constructors.

// NumInputs is the number of data inputs of the op (control inputs are not
// counted).
func (o *Operation) NumInputs() int {
	if o == nil {
		return 0
	}
	n := 0
	for _, in := range o.inputs {
		if len(in) > 0 && in[0] != '^' {
			n++
		}
	}
	return n
}

// Input returns the output of another op that feeds data input i of o,
// and false when o has no such input. It lets graph code look through an
// op, as Keras looks through a Sigmoid or Softmax to reach the logits.
func (o *Operation) Input(i int) (Output, bool) {
	if o == nil || i < 0 {
		return Output{}, false
	}
	k := 0
	for _, in := range o.inputs {
		if len(in) > 0 && in[0] == '^' {
			continue
		}
		if k == i {
			name, idx, _, err := ParseTensorName(in)
			if err != nil {
				return Output{}, false
			}
			for _, op := range o.g.ops {
				if op.name == name && idx < len(op.outputs) {
					return op.Output(idx), true
				}
			}
			return Output{}, false
		}
		k++
	}
	return Output{}, false
}
