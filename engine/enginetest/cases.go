package enginetest

import "fmt"

// Cases returns every conformance case, in a fixed order with unique names.
func Cases() []Case {
	var all []Case
	for _, group := range [][]Case{unaryCases(), binaryCases(), otherMathCases(), reduceCases(), arrayCases(), nnCases(), kerasArrayCases(), kerasNNCases(), trigCases(), kerasResizeCases(), spaceBatchCases(), scaleAndTranslateCases(), kerasArray2Cases(), unpoolCases()} {
		all = append(all, group...)
	}
	all = append(all, controlCases()...)
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.Name] {
			panic(fmt.Sprintf("enginetest: duplicate case name %q", c.Name))
		}
		seen[c.Name] = true
	}
	return all
}
