package console_test

import (
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// auditPage is the accessibility check run in Chromium on every page: the
// rules of WCAG 2.1 AA that a script can decide. It returns one line per
// violation:
//   - the document has a language and a title;
//   - every form control has a label (label element, aria-label,
//     aria-labelledby or title), every button and link a name, every image
//     an alt attribute (empty for decoration);
//   - no positive tabindex (it breaks the keyboard order);
//   - visible text contrasts with its background at 4.5:1, or 3:1 when
//     large (24 px, or 18.66 px bold); disabled controls are exempt, and
//     text over a background image cannot be judged and is skipped.
//
// The focused element shows a visible focus ring (checked on Tab below).
const auditPage = `(() => {
  const problems = [];
  const describe = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.getAttribute("name") ? "[name=" + el.getAttribute("name") + "]" : "") +
    (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const visible = el => {
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== "hidden" && cs.display !== "none";
  };
  const accessibleName = el => {
    if ((el.getAttribute("aria-label") || "").trim()) return el.getAttribute("aria-label");
    const by = el.getAttribute("aria-labelledby");
    if (by) return by.split(/\s+/).map(id => (document.getElementById(id) || {}).textContent || "").join(" ");
    if (el.labels && el.labels.length) return Array.from(el.labels).map(l => l.textContent).join(" ");
    return el.title || "";
  };
  if (!["es", "en"].includes(document.documentElement.lang)) problems.push("html lang is " + JSON.stringify(document.documentElement.lang));
  if (!document.title.trim()) problems.push("no title");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    if (["submit", "button", "reset"].includes(el.type)) {
      if (!(el.value || "").trim() && !accessibleName(el).trim()) problems.push("button without a name: " + describe(el));
      continue;
    }
    if (!accessibleName(el).trim()) problems.push("control without a label: " + describe(el));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    const name = (el.textContent || "").trim() || accessibleName(el).trim() ||
      Array.from(el.querySelectorAll("img[alt]")).map(i => i.alt).join("").trim();
    if (!name) problems.push("no accessible name: " + describe(el));
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) problems.push("image without alt: " + describe(el));
  }
  for (const el of document.querySelectorAll("[tabindex]")) {
    if (el.tabIndex > 0) problems.push("positive tabindex: " + describe(el));
  }
  const parse = c => {
    const m = /rgba?\(([^)]+)\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (fg, bg) => ({r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1});
  const luminance = c => {
    const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.backgroundImage !== "none") return null;
      const c = parse(cs.backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || !el || seen.has(el)) continue;
    seen.add(el);
    if (!visible(el) || el.closest(":disabled, [aria-hidden=true], script, style, noscript")) continue;
    const cs = getComputedStyle(el);
    const inSVG = el.closest("svg") !== null;
    const fg = parse(inSVG ? cs.fill : cs.color), bg = background(inSVG ? el.closest("svg") : el);
    if (!fg || !bg) continue;
    const l1 = luminance(over(fg, bg)), l2 = luminance(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) problems.push("contrast " + ratio.toFixed(2) + " < " + need + ": " + describe(el) + " " + JSON.stringify(text.slice(0, 40)));
  }
  return problems;
})()`

// focusRing tells whether the focused element shows a focus indicator.
const focusRing = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "nothing focused";
  const cs = getComputedStyle(el);
  if (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2) return "";
  if (cs.boxShadow && cs.boxShadow !== "none") return "";
  return "no focus ring on " + el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + JSON.stringify((el.textContent || "").trim().slice(0, 30));
})()`

// TestAccessibility signs in as each role and audits every page its
// navigation offers, plus the record pages they lead to, in Spanish and on
// one page in English; on each page the first Tab stops show a focus ring.
func TestAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	e := mustOpenWith(t, true)
	srv := httptest.NewServer(e.handler(false))
	t.Cleanup(srv.Close)
	s := newBrowserSession(t, srv.URL)
	e.mustCreatePartner()
	e.mustWatchMaria()
	e.mustCreateHit()

	audit := func(path string) {
		t.Helper()
		s.run("open "+path, chromedp.Navigate(s.url+path), chromedp.WaitReady(chromedp.CSS("body")))
		for _, p := range value(s, "audit "+path, chromedp.Evaluate[[]string](auditPage)) {
			t.Errorf("%s: %s", path, p)
		}
		for i := 0; i < 6; i++ {
			s.run("tab", chromedp.KeyEvent("\t"))
			p := value(s, "focus ring", chromedp.Evaluate[string](focusRing))
			if p == "nothing focused" {
				break // past the last control: focus left the page
			}
			if p != "" {
				t.Errorf("%s, Tab %d: %s", path, i+1, p)
			}
		}
	}
	navLinks := func() []string {
		return value(s, "nav links", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("header nav a")).map(a => a.getAttribute("href"))`))
	}
	firstLink := func(path, prefix string) string {
		s.run("open "+path, chromedp.Navigate(s.url+path), chromedp.WaitReady(chromedp.CSS("body")))
		return value(s, "first link to "+prefix, chromedp.Evaluate[string](`(Array.from(document.querySelectorAll("main a")).map(a => a.getAttribute("href")).find(h => h && h.startsWith(`+"`"+prefix+"`"+`)) || "")`))
	}

	s.open("/signin", "#token")
	s.run("choose Spanish", chromedp.Click(chromedp.CSS(`.lang button[value="es"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="es"]`)))
	// The audit finds what it looks for: an unlabelled input, pale text.
	// (The console's CSP refuses inline style attributes, so the colour is
	// set through the CSSOM.)
	s.run("add faults", chromedp.Evaluate[chromedp.Void](`document.querySelector("main").insertAdjacentHTML("beforeend",
		'<p id="pale">pálido</p><input id="unlabelled">'); document.getElementById("pale").style.color = "#aaa"`))
	if got := strings.Join(value(s, "audit the faults", chromedp.Evaluate[[]string](auditPage)), "\n"); !strings.Contains(got, "p#pale") || !strings.Contains(got, "input#unlabelled") {
		t.Fatalf("the audit missed planted faults; it reported:\n%s", got)
	}
	audit("/signin")

	visited := map[string]bool{}
	for _, user := range []string{"oficial.tapachula", "dictaminador", "supervisor", "auditor", "admin"} {
		s.signIn(e.tokens[user])
		pages := navLinks()
		switch user {
		case "supervisor":
			pages = append(pages, firstLink("/encounters", "/subjects/"), firstLink("/encounters", "/encounters/enc_"), "/search?q=mendez")
		case "dictaminador":
			pages = append(pages, firstLink("/hits", "/hits/hit_"))
		}
		for _, p := range pages {
			if p == "" {
				t.Errorf("%s: a record page to audit is missing", user)
				continue
			}
			if visited[user+p] {
				continue
			}
			visited[user+p] = true
			audit(p)
		}
		s.signOut()
	}
	t.Logf("audited %d pages: %v", len(visited), slices.Sorted(maps.Keys(visited)))
	if len(visited) < 15 {
		t.Errorf("audited %d pages, want every page of the console", len(visited))
	}

	// English labels are another set of strings: audit one form page.
	s.open("/signin", "#token")
	s.run("choose English", chromedp.Click(chromedp.CSS(`.lang button[value="en"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
	s.signIn(e.tokens["oficial.tapachula"])
	audit("/enroll")
	if got := s.text("h1"); strings.Contains(got, "Registrar") {
		t.Errorf("English enroll page heading %q", got)
	}
}
