package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color/palette"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/image/draw"
)

// Browser tests drive Debian's headless Chromium with chromedp against the
// real server. They skip when Chromium is missing, except under CI=true.
//
// Screenshots of every page go to artifacts/console-screenshots at the
// repository root (ignored by git; HUELLA_ARTIFACTS overrides the folder).
// HUELLA_UPDATE_SCREENSHOTS=1 also refreshes docs/screenshots, one small
// PNG per main page, for the README.

// chromium returns the path of a Chromium or Chrome binary, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required under CI=true: apt-get install -y chromium")
	}
	t.Skip("browser tests skipped: no Chromium (apt-get install -y chromium)")
	return ""
}

// stepTimeout bounds each step, so that a missing element fails at once
// rather than at the end of the whole test's time.
const stepTimeout = 20 * time.Second

// browserSession is a headless Chromium with an empty profile.
type browserSession struct {
	t   *testing.T
	ctx context.Context
	url string
	dir string // screenshots
	doc string // docs/screenshots, or "" to leave it alone
}

func newBrowserSession(t *testing.T, baseURL string) *browserSession {
	exe := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 100*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	dir := os.Getenv("HUELLA_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "console-screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &browserSession{t: t, ctx: ctx, url: baseURL, dir: dir}
	if os.Getenv("HUELLA_UPDATE_SCREENSHOTS") == "1" {
		s.doc = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(s.doc, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *browserSession) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		s.fail(what, err)
	}
}

// fail stops the test with where the browser is and what it shows.
func (s *browserSession) fail(what string, err error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	s.t.Fatalf("%s: %v (at %s)\n%s", what, err, loc, body)
}

// value runs an action that returns a value, failing the test on error.
func value[T any](s *browserSession, what string, a chromedp.Action[T]) T {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		s.fail(what, err)
	}
	return v
}

// text returns the visible text of the element.
func (s *browserSession) text(sel string) string {
	s.t.Helper()
	return value(s, "read "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// screenshot saves the viewport as name.png; main pages also go to docs,
// scaled to 960 px wide.
func (s *browserSession) screenshot(name string, doc bool) {
	s.t.Helper()
	buf := value(s, "screenshot "+name, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), buf, 0o644); err != nil {
		s.t.Fatal(err)
	}
	if doc && s.doc != "" {
		if err := os.WriteFile(filepath.Join(s.doc, name+".png"), shrink(s.t, buf, 960), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// shrink scales a PNG down to width pixels and to 256 colours, so that the
// screenshots kept in docs stay small.
func shrink(tb testing.TB, data []byte, width int) []byte {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() > width {
		scaled := image.NewRGBA(image.Rect(0, 0, width, b.Dy()*width/b.Dx()))
		draw.CatmullRom.Scale(scaled, scaled.Bounds(), img, b, draw.Src, nil)
		img = scaled
	}
	dst := image.NewPaletted(img.Bounds(), palette.Plan9)
	draw.Draw(dst, dst.Bounds(), img, img.Bounds().Min, draw.Src)
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, dst); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func (s *browserSession) signIn(token string) {
	s.t.Helper()
	s.run("sign in",
		chromedp.Navigate(s.url+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("header nav")),
	)
}

func (s *browserSession) signOut() {
	s.t.Helper()
	s.run("sign out",
		chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	)
}

func (s *browserSession) open(path, waitFor string) {
	s.t.Helper()
	s.run("open "+path, chromedp.Navigate(s.url+path), chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

func contains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s: got %q, want it to contain %q", what, got, want)
	}
}

// TestBrowser walks through the console as an officer, a supervisor, an
// auditor and an administrator would, in one Chromium.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	e := mustOpenWith(t, true)
	srv := httptest.NewServer(e.handler(false)) // plain HTTP on 127.0.0.1: Chromium keeps Secure cookies there
	t.Cleanup(srv.Close)
	s := newBrowserSession(t, srv.URL)
	e.mustCreatePartner()
	e.mustWatchMaria()

	// The fixture images, as files the file inputs can take.
	files := map[string]string{}
	for field, name := range map[string]string{"finger_1": "finger-105_1.png", "finger_2": "finger-106_1.png",
		"iris_right": "iris-002R01.jpg", "iris_left": "iris-002L01.jpg", "face": "face-b1.jpg", "smt_photo_0": "tattoo-57_1.jpg"} {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, fixture(t, name), 0o644); err != nil {
			t.Fatal(err)
		}
		files[field] = p
	}

	t.Run("SignIn", func(t *testing.T) {
		s.open("/signin", "#token")
		// Chromium asks for English; the console starts in Spanish here.
		s.run("choose Spanish", chromedp.Click(chromedp.CSS(`.lang button[value="es"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="es"]`)))
		contains(t, "sign-in heading", s.text("h1"), "Iniciar sesión")
		s.screenshot("signin", true)
		s.signIn(e.tokens["oficial.tapachula"])
		contains(t, "header", s.text(".who"), "oficial.tapachula")
	})

	var subjectID, encounterID string
	t.Run("Enroll", func(t *testing.T) {
		s.open("/enroll", "#enroll-form")
		s.run("fill the biographics",
			chromedp.SendKeys(chromedp.CSS("#given_0"), "Rosa Elena"),
			chromedp.SendKeys(chromedp.CSS("#family_0"), "Quiñónez Bautista"),
			chromedp.SendKeys(chromedp.CSS("#given_1"), "Rosy"),
			chromedp.SendKeys(chromedp.CSS("#birth_year"), "1993"),
			chromedp.SetValue(chromedp.CSS("#sex"), "F"),
			chromedp.SendKeys(chromedp.CSS("#nationality"), "HND"),
			chromedp.SendKeys(chromedp.CSS("#doc_number_0"), "E1122334"),
			chromedp.SendKeys(chromedp.CSS("#doc_country_0"), "HND"),
			chromedp.Click(chromedp.CSS(`input[name="finger_status_3"][value="amputated"]`)),
			chromedp.SetValue(chromedp.CSS("#smt_type_0"), "tattoo"),
			chromedp.SendKeys(chromedp.CSS("#smt_code_0"), "TAT L ARM"),
			chromedp.SetValue(chromedp.CSS("#smt_class_0"), "PLANT"),
			chromedp.Click(chromedp.CSS(`input[name="smt_colors_0"][value="BLACK"]`)),
			chromedp.SendKeys(chromedp.CSS("#smt_desc_0"), "rosa en el antebrazo"),
		)
		for field, path := range files {
			s.run("attach "+field,
				chromedp.SetUploadFiles(chromedp.CSS("#"+field), []string{path}),
				chromedp.WaitVisible(chromedp.CSS("#pv-"+field+".has-image img")))
		}
		contains(t, "finger preview", s.text("#pv-finger_1 .dims"), "388×374 px")
		for _, f := range []string{"finger_1", "finger_2", "iris_right", "iris_left"} {
			s.run("quality of "+f, chromedp.WaitVisible(chromedp.CSS("#pv-"+f+" .quality.good, #pv-"+f+" .quality.low")))
		}
		contains(t, "finger quality", s.text("#pv-finger_1 .quality"), "/100")
		disabled := value(s, "amputated finger takes no image", chromedp.JavascriptAttribute[bool](chromedp.CSS("#finger_3"), "disabled"))
		if !disabled {
			t.Errorf("the file input of an amputated finger is enabled")
		}
		s.run("scroll to the ten-print", chromedp.ScrollIntoView(chromedp.CSS("#cell-finger_1")))
		s.screenshot("enroll", true)
		s.run("submit", chromedp.Click(chromedp.CSS("#enroll-submit")), chromedp.WaitVisible(chromedp.CSS("#enroll-result")))
		// The irises are those of the demo's María Fernanda López: the
		// search links the encounter to her and shows the evidence.
		contains(t, "result", s.text("#enroll-result"), "Vinculado automáticamente")
		contains(t, "result", s.text("#enroll-result"), "Medio derecho")
		contains(t, "evidence", s.text("#evidence"), "Iris derecho")
		subjectID = s.text("#result-subject")
		encounterID = s.text(`#enroll-result a[href^="/encounters/"]`)
		if want := e.subjectOf("María Fernanda"); subjectID != want {
			t.Errorf("linked to %s, want %s", subjectID, want)
		}
		s.screenshot("enroll-result", true)
	})

	t.Run("EncounterShowsAmputation", func(t *testing.T) {
		s.open("/encounters/"+encounterID, "#tenprint-"+encounterID)
		contains(t, "ten-print", s.text(`#tenprint-`+encounterID+` [data-position="3"]`), "Medio derecho")
		contains(t, "ten-print", s.text(`#tenprint-`+encounterID+` [data-position="3"]`), "XX amputado")
		contains(t, "ten-print", s.text(`#tenprint-`+encounterID+` [data-position="1"]`), "tomada")
		s.run("scroll to the ten-print", chromedp.ScrollIntoView(chromedp.CSS("#tenprint-"+encounterID)))
		s.screenshot("encounter-tenprint", false)
	})

	t.Run("EnrollAgainLinks", func(t *testing.T) {
		s.open("/enroll?subject="+subjectID, "#enroll-form")
		s.run("fill and submit",
			chromedp.SendKeys(chromedp.CSS("#given_0"), "Rosa"),
			chromedp.SendKeys(chromedp.CSS("#family_0"), "Quiñónez"),
			chromedp.SetValue(chromedp.CSS("#history"), "conviction"),
			chromedp.SendKeys(chromedp.CSS("#offence"), "robo agravado"),
			chromedp.SetUploadFiles(chromedp.CSS("#finger_1"), []string{files["finger_1"]}),
			// The subject given is a claim, linked because her irises verify it.
			chromedp.SetUploadFiles(chromedp.CSS("#iris_right"), []string{files["iris_right"]}),
			chromedp.SetUploadFiles(chromedp.CSS("#iris_left"), []string{files["iris_left"]}),
			chromedp.Click(chromedp.CSS("#enroll-submit")),
			chromedp.WaitVisible(chromedp.CSS("#enroll-result")))
		contains(t, "result", s.text("#enroll-result"), "vinculado")
		contains(t, "result", s.text("#result-subject"), subjectID)
	})

	t.Run("ValidationMessage", func(t *testing.T) {
		s.open("/enroll", "#enroll-form")
		s.run("submit without a name",
			chromedp.SetUploadFiles(chromedp.CSS("#face"), []string{files["face"]}),
			chromedp.Click(chromedp.CSS("#enroll-submit")),
			chromedp.WaitVisible(chromedp.CSS("#enroll-errors")))
		contains(t, "errors", s.text("#enroll-errors"), "falta el nombre o el apellido")
	})

	t.Run("Subject", func(t *testing.T) {
		s.open("/subjects/"+subjectID, "#subject-names")
		contains(t, "names", s.text("#subject-names"), "Rosa Elena")
		contains(t, "names", s.text("#subject-names"), "Rosy")
		contains(t, "names", s.text("#subject-names"), "María Fernanda")
		contains(t, "ten-print", s.text(`#tenprint-`+encounterID+` [data-absence="amputated"]`), "XX amputado")
		value(s, "images load", chromedp.Poll[bool](`Array.from(document.querySelectorAll(".gallery img")).slice(0, 4).every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(10*time.Second)))
		s.screenshot("subject", true)
	})

	t.Run("SwitchLanguage", func(t *testing.T) {
		s.run("switch to English", chromedp.Click(chromedp.CSS(`.lang button[value="en"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
		contains(t, "sign-out button", s.text(`form[action="/signout"] button`), "Sign out")
		contains(t, "heading", s.text("h1"), "Subject")
	})

	t.Run("OfficerCannotOpenAudit", func(t *testing.T) {
		s.open("/audit", "h1")
		contains(t, "heading", s.text("h1"), "Access denied")
		if strings.Contains(s.text("main"), "Hash chain") {
			t.Errorf("the officer sees the audit trail")
		}
		s.screenshot("forbidden", false)
		s.signOut()
	})

	t.Run("Examiner", func(t *testing.T) {
		s.signIn(e.tokens["dictaminador"])
		s.open("/hits?kind=watchlist", "#hit-list")
		s.screenshot("hits", true)
		s.run("open the hit", chromedp.Click(chromedp.CSS(`#hit-list a[href^="/hits/hit_"]`)), chromedp.WaitVisible(chromedp.CSS("#decide-submit")))
		contains(t, "candidate", s.text("main"), "PNC-2026-0117")
		value(s, "images load", chromedp.Poll[bool](`Array.from(document.querySelectorAll("img.zoomable")).every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(10*time.Second)))
		s.screenshot("hit-iris", false)
		s.run("zoom with the keyboard", chromedp.Focus(chromedp.CSS("img.zoomable")), chromedp.KeyEvent("\r"))
		zoomed := value(s, "zoomed", chromedp.Evaluate[bool](`document.querySelector("img.zoomable").classList.contains("zoomed")`))
		if !zoomed {
			t.Errorf("Enter on an image does not zoom it")
		}
		s.run("confirm with a reason",
			chromedp.Click(chromedp.CSS(`input[name="decision"][value="confirmed"]`)),
			chromedp.SendKeys(chromedp.CSS("#reason"), "Both irises match: crypts and collarette"),
			chromedp.Click(chromedp.CSS("#decide-submit")),
			chromedp.WaitVisible(chromedp.CSS("#decided")))
		contains(t, "decided", s.text("#decided"), "the owner will be told")
		s.signOut()
	})

	t.Run("ExaminerMinutiae", func(t *testing.T) {
		h := e.mustFingerHit()
		s.signIn(e.tokens["dictaminador"])
		s.open("/hits/"+h.ID, "#minutiae-2 svg.minutiae")
		value(s, "prints load", chromedp.Poll[bool](`performance.getEntriesByType("resource").filter(r => r.name.includes("/images/")).length >= 8`,
			chromedp.WithPollingTimeout(10*time.Second)))
		// Each link joins a mark on the probe's print to one on the
		// candidate's, both numbered alike and drawn over their image.
		check := value(s, "pairs drawn", chromedp.Evaluate[string](`(() => {
			const view = document.querySelector("#minutiae-2");
			const [left, right] = Array.from(view.querySelectorAll("svg.minutiae image")).map(i => i.getBoundingClientRect());
			const inside = (r, el) => { const b = el.getBoundingClientRect(), x = b.x + b.width / 2, y = b.y + b.height / 2;
				return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom; };
			const links = view.querySelectorAll("line.link");
			for (const l of links) {
				const n = l.dataset.pair;
				const p = view.querySelectorAll('.probe-marks [data-pair="' + n + '"]'), c = view.querySelectorAll('.candidate-marks [data-pair="' + n + '"]');
				if (p.length !== 1 || c.length !== 1) return "pair " + n + ": " + p.length + " and " + c.length + " marks";
				if (p[0].textContent !== n || c[0].textContent !== n) return "pair " + n + " numbered " + p[0].textContent + " and " + c[0].textContent;
				if (!inside(left, p[0].firstElementChild) || !inside(right, c[0].firstElementChild)) return "pair " + n + " drawn off its print";
			}
			return "links " + links.length;
		})()`))
		var links int
		if _, err := fmt.Sscanf(check, "links %d", &links); err != nil || links < 5 {
			t.Errorf("minutiae of the right index: %s, want 5 or more pairs, each marked on both prints", check)
		}
		if n := value(s, "marks", chromedp.Evaluate[int](`document.querySelectorAll("#minutiae-2 .m:not(.paired)").length`)); n < 10 {
			t.Errorf("%d unpaired minutiae drawn, want the rest too", n)
		}
		value(s, "scroll to the legend and the index finger", chromedp.Evaluate[bool](`(document.querySelector("#h-compare").scrollIntoView({block: "start"}), true)`))
		s.screenshot("hit", true)
		// Pointing at a pair highlights it on both prints.
		lit := value(s, "highlight", chromedp.Evaluate[int](`(() => {
			const m = document.querySelector('#minutiae-2 .probe-marks [data-pair="1"] circle, #minutiae-2 .probe-marks [data-pair="1"] rect');
			m.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
			return document.querySelectorAll('#minutiae-2 .hl[data-pair="1"]').length;
		})()`))
		if lit != 4 { // both marks, the link and the row of the table
			t.Errorf("pointing at pair 1 highlights %d elements, want 4", lit)
		}
		before := value(s, "width", chromedp.Evaluate[float64](`document.querySelector("#minutiae-2 svg.minutiae").getBoundingClientRect().width`))
		s.run("zoom with the keyboard", chromedp.Focus(chromedp.CSS("#minutiae-2 svg.minutiae")), chromedp.KeyEvent("\r"))
		after := value(s, "zoomed width", chromedp.Evaluate[float64](`document.querySelector("#minutiae-2 svg.minutiae").getBoundingClientRect().width`))
		if after < 1.5*before {
			t.Errorf("Enter on the drawing: %.0f px wide, was %.0f; want it enlarged", after, before)
		}
		s.screenshot("hit-minutiae-zoomed", false)
		if legend := s.text("#minutiae-legend"); !strings.Contains(legend, "ending") && !strings.Contains(legend, "Terminación") {
			t.Errorf("legend: %q", legend)
		}
		s.run("open the table of pairs", chromedp.Click(chromedp.CSS("#minutiae-2 .pair-table summary")), chromedp.ScrollIntoView(chromedp.CSS("#minutiae-legend")))
		if rows := value(s, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#minutiae-2 .pair-table tbody tr").length`)); rows != links {
			t.Errorf("table of pairs: %d rows, want %d", rows, links)
		}
		s.screenshot("hit-minutiae-legend", false)
		s.signOut()
	})

	t.Run("Supervisor", func(t *testing.T) {
		s.signIn(e.tokens["supervisor"])
		s.open("/dashboard", "svg.chart-svg")
		bars := value(s, "count bars", chromedp.Evaluate[int](`document.querySelectorAll("svg rect").length`))
		if bars < 4 {
			t.Errorf("dashboard: %d bars, want at least 4", bars)
		}
		s.screenshot("dashboard", true)
		// The keyboard reaches the skip link first, and it jumps to the content.
		s.run("tab", chromedp.KeyEvent("\t"))
		focused := value(s, "focused", chromedp.Evaluate[string](`document.activeElement.className + "|" + document.activeElement.getAttribute("href")`))
		if focused != "skip|#main" {
			t.Errorf("first Tab focuses %q, want the skip link", focused)
		}
		s.open("/search?q=mendez", "#search-results")
		contains(t, "search", s.text("#search-results"), "Carlos Alberto")
		s.screenshot("search", true)
		s.open("/encounters", "table.list")
		s.screenshot("encounters", true)
		s.open("/partners", "#delivery-list")
		contains(t, "deliveries", s.text("#delivery-list"), "GT-PNC")
		contains(t, "deliveries", s.text("#delivery-list"), "Confirmed watchlist hit")
		s.screenshot("partners", true)
		// The person's page lists the hit about them and what was forwarded.
		s.open("/subjects/"+subjectID, "#subject-deliveries")
		contains(t, "the subject's deliveries", s.text("#subject-deliveries"), "GT-PNC")
		if n := value(s, "count the subject's hits", chromedp.Evaluate[int](`document.querySelectorAll("#subject-hits tbody tr").length`)); n < 1 {
			t.Errorf("the subject's page lists %d hits, want the confirmed watchlist hit", n)
		}
		s.screenshot("subject-supervisor", false)

		s.open("/watchlists", "#watchlist-form")
		s.run("create a watchlist",
			chromedp.SendKeys(chromedp.CSS("#wl-name"), "Órdenes de captura MX"),
			chromedp.SetValue(chromedp.CSS("#wl-category"), "wanted"),
			chromedp.Click(chromedp.CSS(`#watchlist-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#list-saved")),
		)
		if !value(s, "choose the new list", chromedp.Evaluate[bool](`(() => { const sel = document.querySelector("#we-list");
			for (const o of sel.options) { if (o.text.startsWith("Órdenes de captura MX")) { sel.value = o.value; return true } } return false })()`)) {
			t.Fatalf("the new list is not offered for entries")
		}
		s.run("fill the entry", chromedp.SendKeys(chromedp.CSS("#we-ref"), "MX-FGR-2026-0002"),
			chromedp.SendKeys(chromedp.CSS("#we-given-0"), "María Fernanda"),
			chromedp.SendKeys(chromedp.CSS("#we-family-0"), "López"),
			chromedp.SetUploadFiles(chromedp.CSS("#we-iris-right"), []string{files["iris_right"]}),
			chromedp.SetUploadFiles(chromedp.CSS("#we-iris-left"), []string{files["iris_left"]}),
			chromedp.Click(chromedp.CSS(`#entry-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#entry-result")),
		)
		contains(t, "retro search", s.text("#entry-hits"), "hit_")
		s.screenshot("watchlist-entry", false)
		s.signOut()
	})

	t.Run("Auditor", func(t *testing.T) {
		s.signIn(e.tokens["auditor"])
		s.open("/audit", "#chain-status")
		contains(t, "chain", s.text("#chain-status"), "intact")
		s.screenshot("audit", true)
		s.signOut()
	})

	t.Run("Admin", func(t *testing.T) {
		s.signIn(e.tokens["admin"])
		s.open("/users", "#u-name")
		s.screenshot("users", true)
		s.open("/sites", "#s-code")
		s.screenshot("sites", true)
		s.open("/partners", "#partner-form")
		s.run("fill the new partner and its agreement",
			chromedp.SendKeys(chromedp.CSS("#np-code"), "SV-PNC"),
			chromedp.SendKeys(chromedp.CSS("#np-name"), "Policía Nacional Civil de El Salvador"),
			chromedp.SendKeys(chromedp.CSS("#np-endpoint"), "https://pnc.example.sv/huella"),
			chromedp.SetValue(chromedp.CSS("#np-format"), "ansinist"),
			chromedp.Click(chromedp.CSS(`#partner-form input[name="triggers"][value="conviction"]`)),
			chromedp.Click(chromedp.CSS(`#partner-form input[name="fields"][value="names"]`)),
			chromedp.SendKeys(chromedp.CSS("#np-legal"), "Convenio CA-4, art. 9"),
			chromedp.Click(chromedp.CSS(`#partner-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#partner-saved")),
		)
		contains(t, "partners", s.text("#partner-list"), "SV-PNC")
		contains(t, "partners", s.text("#partner-list"), "Convenio CA-4, art. 9")
		s.screenshot("partner-new", false)

		// Edit GT-PNC: a new delivery address, suspended.
		s.run("edit a partner",
			chromedp.Click(chromedp.CSS("#edit-GT-PNC summary")),
			chromedp.WaitVisible(chromedp.CSS("#edit-form-GT-PNC")),
			chromedp.SetValue(chromedp.CSS("#ep-endpoint-GT-PNC"), "https://entregas.pnc.example/v2"),
			chromedp.SetValue(chromedp.CSS("#ep-state-GT-PNC"), "suspended"),
			chromedp.SendKeys(chromedp.CSS("#ep-keyid-GT-PNC"), "huella-2026"),
			chromedp.Click(chromedp.CSS(`#edit-form-GT-PNC button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#partner-done")),
		)
		row := `#partner-list tr:has(a[href="/partners?partner=GT-PNC"])`
		contains(t, "edited partner", s.text(row), "https://entregas.pnc.example/v2")
		contains(t, "edited partner", s.text(row), "Suspended")
		s.screenshot("partner-edit", false)

		// Revoke SV-PNC's agreement: the button waits for the confirmation.
		row = `#partner-list tr:has(a[href="/partners?partner=SV-PNC"])`
		s.run("open the revocation", chromedp.Click(chromedp.CSS(row+" details.revoke summary")),
			chromedp.WaitVisible(chromedp.CSS(row+` details.revoke button[type="submit"]`)),
			chromedp.Click(chromedp.CSS(row+` details.revoke button[type="submit"]`)))
		if at := value(s, "unconfirmed form", chromedp.Evaluate[string](`location.pathname`)); at != "/partners/GT-PNC" {
			t.Errorf("the revocation was sent without the confirmation (at %s)", at)
		}
		s.run("confirm and revoke",
			chromedp.Click(chromedp.CSS(row+` details.revoke input[name="confirm"]`)),
			chromedp.Click(chromedp.CSS(row+` details.revoke button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#partner-done")),
		)
		contains(t, "revoked agreement", s.text(row+" .agreement.revoked"), "Revoked")
		s.screenshot("agreement-revoked", false)

		// Take the supervisor's entry off its list: it stays, greyed.
		s.open("/watchlists", "#watch-entries")
		entry := value(s, "find the entry", chromedp.Evaluate[string](`(() => { for (const td of document.querySelectorAll("#watch-entries td.code")) {
			if (td.textContent.trim() === "MX-FGR-2026-0002") return td.closest("tr").id } return "" })()`))
		if entry == "" {
			t.Fatalf("the supervisor's entry is not listed")
		}
		s.run("remove the entry",
			chromedp.Click(chromedp.CSS("#"+entry+" details.remove summary")),
			chromedp.SendKeys(chromedp.CSS("#"+entry+` input[name="reason"]`), "orden de captura cancelada por la FGR"),
			chromedp.Click(chromedp.CSS("#"+entry+` button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#entry-removed")),
		)
		contains(t, "removed entry", s.text("#"+entry), "orden de captura cancelada por la FGR")
		contains(t, "removed entry", s.text("#"+entry), "by admin")
		colour := `getComputedStyle(document.querySelector(%q)).color`
		grey := value(s, "removed colour", chromedp.Evaluate[string](fmt.Sprintf(colour, "#"+entry+" td")))
		ink := value(s, "active colour", chromedp.Evaluate[string](fmt.Sprintf(colour, "#watch-entries tr:not(.removed) td")))
		if grey == ink {
			t.Errorf("the removed entry is not greyed: %s, as the active ones", grey)
		}
		s.run("scroll to the entries", chromedp.ScrollIntoView(chromedp.CSS("#"+entry)))
		s.screenshot("watchlist-removed", false)
		s.signOut()
	})
	t.Logf("screenshots in %s", s.dir)
}
