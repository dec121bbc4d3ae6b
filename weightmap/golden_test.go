package weightmap

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// npyArray is an array read from a NumPy .npy file with package npy.
type npyArray struct {
	t     *tfops.Tensor
	shape []int
}

func readNpy(path string) (*npyArray, error) {
	t, err := npy.ReadFile(path, npy.Options{})
	if err != nil {
		return nil, err
	}
	return &npyArray{t: t, shape: t.Shape()}, nil
}

func (a *npyArray) uint8s(t *testing.T) []uint8 {
	require.Equal(t, tfops.Uint8, a.t.DType())
	return tfops.Values[uint8](a.t)
}

func (a *npyArray) int32s(t *testing.T) []int32 {
	require.Equal(t, tfops.Int32, a.t.DType())
	return a.t.Int32s()
}

func (a *npyArray) float64s(t *testing.T) []float64 {
	require.Equal(t, tfops.Double, a.t.DType())
	return a.t.Float64s()
}

// goldenManifest is testdata/cases.json, written by scripts/goldens_weightmap.py.
type goldenManifest struct {
	Cases []struct {
		Name     string    `json:"name"`
		Shape    []int     `json:"shape"`
		Sampling []float64 `json:"sampling"`
		Mask     string    `json:"mask"`
		Labels   map[string]struct {
			File string `json:"file"`
			N    int    `json:"n"`
		} `json:"labels"`
		EDT     string `json:"edt"`
		Nearest string `json:"nearest"`
		UNet    []struct {
			File         string    `json:"file"`
			W0           float64   `json:"w0"`
			Sigma        float64   `json:"sigma"`
			Class        string    `json:"class"`
			ClassWeights []float64 `json:"class_weights"`
			Connectivity int       `json:"connectivity"`
		} `json:"unet"`
	} `json:"cases"`
}

// TestGoldens compares with SciPy: labels identical, distances within 1e-6
// absolute, weight maps within 1e-5 relative.
func TestGoldens(t *testing.T) {
	dir := "testdata"
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	require.NoError(t, err, "run /usr/bin/python3 scripts/goldens_weightmap.py")
	var man goldenManifest
	require.NoError(t, json.Unmarshal(b, &man))
	require.NotEmpty(t, man.Cases)
	load := func(t *testing.T, file string) *npyArray {
		a, err := readNpy(filepath.Join(dir, file))
		require.NoError(t, err)
		return a
	}
	for _, c := range man.Cases {
		t.Run(c.Name, func(t *testing.T) {
			require.Len(t, c.Shape, 2)
			h, w := c.Shape[0], c.Shape[1]
			mask := load(t, c.Mask).uint8s(t)
			require.Len(t, mask, h*w)
			for conn, want := range c.Labels {
				cn := map[string]Connectivity{"4": Conn4, "8": Conn8}[conn]
				got, n, err := Label(mask, h, w, cn)
				require.NoError(t, err)
				require.Equal(t, want.N, n, "%s objects", cn)
				wl := load(t, want.File).int32s(t)
				for i := range wl {
					if got[i] != wl[i] {
						t.Fatalf("%s label of pixel %d (row %d, col %d): got %d, want %d", cn, i, i/w, i%w, got[i], wl[i])
					}
				}
			}
			check := func(what string, got, want []float64) {
				t.Helper()
				require.Len(t, got, len(want), what)
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-6 {
						t.Fatalf("%s of pixel %d (row %d, col %d): got %v, want %v", what, i, i/w, i%w, got[i], want[i])
					}
				}
			}
			got, err := EDT(mask, []int{h, w}, c.Sampling)
			require.NoError(t, err)
			check("EDT", got, load(t, c.EDT).float64s(t))
			got, err = Nearest(mask, h, w, c.Sampling)
			require.NoError(t, err)
			check("Nearest", got, load(t, c.Nearest).float64s(t))
			for _, u := range c.UNet {
				o := Options{W0: u.W0, Sigma: u.Sigma, Sampling: c.Sampling}
				switch u.Class {
				case "none":
					o.Class = ClassNone
				case "explicit":
					o.Class = ClassExplicit
					o.ClassWeights = [2]float64{u.ClassWeights[0], u.ClassWeights[1]}
				case "balanced":
				default:
					t.Fatalf("class %q", u.Class)
				}
				if u.Connectivity == 8 {
					o.Connectivity = Conn8
				}
				got, err := UNet(mask, h, w, o)
				require.NoError(t, err)
				want := load(t, u.File).float64s(t)
				for i := range want {
					if d := math.Abs(got[i] - want[i]); d > 1e-5*math.Abs(want[i]) && d > 1e-300 {
						t.Fatalf("%s pixel %d (row %d, col %d): got %v, want %v", u.File, i, i/w, i%w, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestLCGMatchesPython pins the shared mask generator: the golden
// many_discs mask was drawn by the Python twin of lcgDiscs.
func TestLCGMatchesPython(t *testing.T) {
	a, err := readNpy(filepath.Join("testdata", "many_discs_mask.npy"))
	require.NoError(t, err)
	require.Equal(t, []int{96, 128}, a.shape)
	require.Equal(t, a.uint8s(t), lcgDiscs(96, 128, 25, 2, 8, 3))
}

// TestBenchMask pins the benchmark mask to what scripts/bench_weightmap_scipy.py
// reports for its twin: 91488 foreground pixels in 50 objects.
func TestBenchMask(t *testing.T) {
	m := lcgDiscs(1024, 1024, 50, 8, 40, 1)
	fg := 0
	for _, v := range m {
		fg += int(v)
	}
	_, n, err := Label(m, 1024, 1024, Conn4)
	require.NoError(t, err)
	require.Equal(t, 91488, fg)
	require.Equal(t, 50, n)
}
