package weightmap

import "testing"

// TestNoBorder checks that NoBorder leaves w_c alone: explicit weights 0.5
// and 3 on a two-object mask give exactly those two values.
func TestNoBorder(t *testing.T) {
	mask := []uint8{
		1, 1, 0, 0, 1,
		1, 1, 0, 0, 1,
		0, 0, 0, 0, 0,
	}
	got, err := UNet(mask, 3, 5, Options{NoBorder: true, Class: ClassExplicit, ClassWeights: [2]float64{0.5, 3}})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		want := 0.5
		if mask[i] == 1 {
			want = 3
		}
		if v != want {
			t.Errorf("pixel %d: got %v, want %v", i, v, want)
		}
	}
	with, err := UNet(mask, 3, 5, Options{Class: ClassExplicit, ClassWeights: [2]float64{0.5, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if with[2] <= 0.5 {
		t.Errorf("the border term should raise pixel 2 between the objects above 0.5, got %v", with[2])
	}
}
