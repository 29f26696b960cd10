package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/imgproc"
)

// identifier returns the enrollment service's identifier, set when "huella
// serve" starts identification, else nil: the enroll form then measures no
// quality and the search by image is not offered.
func (c *Console) identifier() *enroll.Identifier {
	return c.cfg.Enroll.Identifier
}

// sampleFor builds the sample of an image from the form's slot fields:
// modality, position (fingers) and eye (irises).
func sampleFor(modality, position, eye string, ppi int) (*huella.Sample, error) {
	s := &huella.Sample{Modality: huella.Modality(modality), PPI: ppi}
	switch s.Modality {
	case huella.ModalityFinger:
		n, err := strconv.Atoi(position)
		if err != nil || n < 1 || n > 10 {
			return nil, huella.Errorf(huella.EINVALID, "finger position must be 1-10")
		}
		s.Position, s.Impression = n, huella.ImpressionPlain
	case huella.ModalityIris:
		s.Eye = huella.Eye(eye)
		if s.Eye != huella.EyeRight && s.Eye != huella.EyeLeft {
			return nil, huella.Errorf(huella.EINVALID, "iris eye must be right or left")
		}
	case huella.ModalityFace:
	default:
		return nil, huella.Errorf(huella.EINVALID, "modality must be finger, iris or face")
	}
	return s, nil
}

// qualityAnswer is the JSON the enroll form's script shows under an image.
type qualityAnswer struct {
	Available bool   `json:"available"` // an engine measured the image
	Quality   int    `json:"quality"`
	Low       bool   `json:"low"` // below QualityRecaptureBelow, or unusable
	Text      string `json:"text"`
}

// handleQuality measures one image as it is chosen on the enroll form, so
// that the officer can recapture at once. The image is not stored and no
// record is read, so nothing is audited.
func (c *Console) handleQuality(w http.ResponseWriter, r *http.Request, req *request) {
	r.Body = http.MaxBytesReader(w, r.Body, enroll.DefaultMaxImageSize+maxFormSize)
	form, files, err := readUpload(r, req, enroll.DefaultMaxImageSize)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "enroll")
	answer := c.measure(r, v, form, files["image"])
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(answer)
}

func (c *Console) measure(r *http.Request, v *view, form url.Values, image []byte) qualityAnswer {
	x := c.identifier()
	if x == nil || image == nil {
		return qualityAnswer{}
	}
	ppi, _ := strconv.Atoi(form.Get("ppi"))
	s, err := sampleFor(form.Get("modality"), form.Get("position"), form.Get("eye"), ppi)
	if err != nil {
		return qualityAnswer{}
	}
	eng, ok := x.Engines[s.Modality]
	if !ok {
		return qualityAnswer{}
	}
	// A size no capture device of the modality produces is refused from
	// the header, before the engine decodes it.
	if h, err := imgproc.ReadHeader(image); err == nil && imgproc.LimitFor(string(s.Modality), s.PPI).Check(h.Width, h.Height) != nil {
		return qualityAnswer{Available: true, Low: true, Text: v.T("quality.unusable")}
	}
	_, q, err := eng.Extract(r.Context(), s, image)
	if err != nil {
		return qualityAnswer{Available: true, Low: true, Text: v.T("quality.unusable")}
	}
	a := qualityAnswer{Available: true, Quality: q, Low: q < QualityRecaptureBelow}
	if a.Low {
		a.Text = v.T("quality.low", q)
	} else {
		a.Text = v.T("quality.ok", q)
	}
	return a
}

type identifyPage struct {
	Slots      []int
	Form       url.Values
	Searched   bool
	Available  bool
	Candidates []*huella.Candidate
	Recapture  []string
	Error      string
}

// Val returns the form's value of the field.
func (p identifyPage) Val(name string) string { return p.Form.Get(name) }

// Field names a numbered field.
func (p identifyPage) Field(name string, i int) string { return fmt.Sprintf("%s_%d", name, i) }

func (c *Console) handleIdentifyForm(w http.ResponseWriter, r *http.Request, req *request) {
	form := url.Values{}
	form.Set("slot_0", "finger-2")
	form.Set("slot_1", "finger-7")
	form.Set("slot_2", "iris-right")
	form.Set("slot_3", "iris-left")
	c.renderIdentify(w, r, req, http.StatusOK, identifyPage{Form: form})
}

func (c *Console) renderIdentify(w http.ResponseWriter, r *http.Request, req *request, status int, page identifyPage) {
	page.Available = c.identifier() != nil
	for i := 0; i < probeSlots; i++ {
		page.Slots = append(page.Slots, i)
	}
	v := c.pageView(r, req, "identify")
	v.Data = page
	c.render(w, status, "identify", v)
}

// handleIdentify searches the subjects with the images given: the same
// 1:N search as enrollment, without enrolling anything. Candidates show as
// subject IDs with their evidence; the subject pages apply the site rules.
// The search is audited as identify.
func (c *Console) handleIdentify(w http.ResponseWriter, r *http.Request, req *request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxEnrollSize)
	form, files, err := readUpload(r, req, enroll.DefaultMaxImageSize)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "identify")
	page := identifyPage{Form: form}
	x := c.identifier()
	if x == nil {
		c.renderIdentify(w, r, req, http.StatusServiceUnavailable, page)
		return
	}
	if err := x.Ready(); err != nil {
		page.Error = v.ErrorText(err)
		c.renderIdentify(w, r, req, http.StatusServiceUnavailable, page)
		return
	}
	var samples []*huella.Sample
	var images [][]byte
	var slots []string
	seen := map[string]bool{}
	for i := 0; i < probeSlots; i++ {
		data := files[fmt.Sprintf("image_%d", i)]
		if data == nil {
			continue
		}
		slot := form.Get(fmt.Sprintf("slot_%d", i))
		m, pos, eye := slotFields(slot)
		s, err := sampleFor(m, pos, eye, 0)
		if err != nil || seen[slot] {
			page.Error = v.T("identify.err.slot", i+1)
			c.renderIdentify(w, r, req, http.StatusBadRequest, page)
			return
		}
		seen[slot] = true
		samples, images, slots = append(samples, s), append(images, data), append(slots, v.SlotName(slot))
	}
	if len(samples) == 0 {
		page.Error = v.T("identify.err.none")
		c.renderIdentify(w, r, req, http.StatusBadRequest, page)
		return
	}
	for _, reason := range x.Extract(r.Context(), samples, images) {
		page.Recapture = append(page.Recapture, sampleErrorText(v, huella.Errorf(huella.EUNPROCESSABLE, "%s", reason), slots))
	}
	var probe []*huella.Template
	for _, s := range samples {
		if s.Template != nil {
			probe = append(probe, s.Template)
		}
	}
	id, err := x.Identify(r.Context(), probe)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	page.Searched, page.Candidates = true, id.Candidates
	if len(page.Candidates) > maxCandidatesShown {
		page.Candidates = page.Candidates[:maxCandidatesShown]
	}
	if err := c.audit(r.Context(), huella.ActionIdentify, "subjects", "", fmt.Sprintf("console search: %d images, %d candidates", len(probe), len(id.Candidates))); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	c.renderIdentify(w, r, req, http.StatusOK, page)
}

// slotFields splits a slot key ("finger-2", "iris-right", "face") into the
// form fields of sampleFor.
func slotFields(slot string) (modality, position, eye string) {
	switch {
	case len(slot) > 7 && slot[:7] == "finger-":
		return "finger", slot[7:], ""
	case len(slot) > 5 && slot[:5] == "iris-":
		return "iris", "", slot[5:]
	default:
		return slot, "", ""
	}
}
