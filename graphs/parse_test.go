package graphs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLoss(t *testing.T) {
	tests := []struct {
		in   string
		name string
		cfg  Config
		is   error
		err  string // a part of the message: the bad part, quoted
	}{
		{in: "iou", name: "iou"},
		{in: " focal :gamma=2,alpha=0.25", name: "focal", cfg: Config{"gamma": "2", "alpha": "0.25"}},
		{in: "lovasz_softmax:class_weights=1,2,3,per_image=true", name: "lovasz_softmax", cfg: Config{"class_weights": "1,2,3", "per_image": "true"}},
		{in: "ce:reduction=", name: "ce", cfg: Config{"reduction": ""}},
		{in: "nope", is: ErrUnknown, err: `"nope"`},
		{in: ":x=1", is: ErrUnknown, err: `empty name in ":x=1"`},
		{in: "iou:average", is: ErrParam, err: `"average" in "iou:average": want NAME or NAME:key=value`},
		{in: "iou:", is: ErrParam, err: `"" in "iou:"`},
		{in: "iou:=1", is: ErrParam, err: `"=1": empty parameter name (in "iou:=1")`},
		{in: "focal:gamma=2,gamma=3", is: ErrParam, err: `gamma given twice (in "focal:gamma=2,gamma=3")`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			name, cfg, err := ParseLoss(tc.in)
			if tc.err != "" {
				require.ErrorIs(t, err, tc.is)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.name, name)
			assert.Equal(t, tc.cfg, cfg)
			name2, cfg2, err := ParseLoss(FormatLoss(name, cfg))
			require.NoError(t, err)
			assert.Equal(t, []any{name, cfg}, []any{name2, cfg2}, "FormatLoss round-trips")
		})
	}
	assert.Equal(t, "focal:alpha=0.25,gamma=2", FormatLoss("focal", Config{"gamma": "2", "alpha": "0.25"}))
	assert.Equal(t, "iou", FormatLoss("iou", Config{}))
}

func TestConfigFromPairs(t *testing.T) {
	cfg, err := ConfigFromPairs("gamma=2", " alpha =0.25", "class_weights=1,2")
	require.NoError(t, err)
	assert.Equal(t, Config{"gamma": "2", "alpha": "0.25", "class_weights": "1,2"}, cfg)
	for pair, msg := range map[string]string{"oops": `"oops": want key=value`, "=1": "empty parameter name"} {
		_, err := ConfigFromPairs(pair)
		require.ErrorIs(t, err, ErrParam)
		assert.Contains(t, err.Error(), msg)
	}
	_, err = ConfigFromPairs("a=1", "a=2")
	require.ErrorIs(t, err, ErrParam)
	assert.Contains(t, err.Error(), "a given twice")
	empty, err := ConfigFromPairs()
	require.NoError(t, err)
	assert.Equal(t, Config{}, empty)
}

// TestParseWrapsCause: Spec.Parse wraps both ErrParam and the value's
// parse error (the message unchanged).
func TestParseWrapsCause(t *testing.T) {
	spec, err := Lookup("focal")
	require.NoError(t, err)
	_, err = spec.Parse(Config{"gamma": "two"})
	require.ErrorIs(t, err, ErrParam)
	multi, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "%T wraps one error", err)
	causes := multi.Unwrap()
	require.Len(t, causes, 2)
	assert.Equal(t, ErrParam, causes[0])
	assert.Equal(t, err.Error(), `graphs: bad parameter: focal: gamma="two": `+causes[1].Error())
}
