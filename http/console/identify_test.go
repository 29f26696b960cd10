package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/internal/hostile"
)

func TestQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	e := mustOpenWith(t, true)
	e.srv = httptestTLS(t, e)
	b := e.signIn("oficial.tapachula")
	b.get("/enroll")
	measure := func(fields url.Values, image []byte) (int, map[string]any) {
		code, body, _ := b.upload("/quality", fields, map[string][]byte{"image": image})
		var got map[string]any
		if code == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("quality answer %q: %v", body, err)
			}
		}
		return code, got
	}
	t.Run("OK", func(t *testing.T) {
		code, got := measure(url.Values{"modality": {"finger"}, "position": {"2"}, "ppi": {"500"}}, fixture(t, "finger-101_1.png"))
		if code != http.StatusOK || got["available"] != true || got["quality"].(float64) <= 0 || !strings.Contains(got["text"].(string), "/100") {
			t.Fatalf("finger quality: %d %v", code, got)
		}
		code, got = measure(url.Values{"modality": {"iris"}, "eye": {"right"}}, fixture(t, "iris-001R01.jpg"))
		if code != http.StatusOK || got["available"] != true {
			t.Fatalf("iris quality: %d %v", code, got)
		}
	})
	t.Run("Unusable", func(t *testing.T) {
		code, got := measure(url.Values{"modality": {"finger"}, "position": {"1"}}, []byte("not an image"))
		if code != http.StatusOK || got["low"] != true || !strings.Contains(got["text"].(string), "vuelva a capturar") {
			t.Fatalf("garbage: %d %v", code, got)
		}
	})
	t.Run("BombRefusedFromHeader", func(t *testing.T) {
		bomb := hostile.BombPNG(10000, 10000)
		start := time.Now()
		code, got := measure(url.Values{"modality": {"finger"}, "position": {"1"}, "ppi": {"500"}}, bomb)
		if code != http.StatusOK || got["low"] != true {
			t.Fatalf("bomb: %d %v", code, got)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v: the bomb was decoded", d)
		}
	})
	t.Run("ErrCSRF", func(t *testing.T) {
		code, _ := measure(url.Values{"modality": {"finger"}, "position": {"1"}, "csrf": {"forged"}}, fixture(t, "finger-101_1.png"))
		if code != http.StatusForbidden {
			t.Fatalf("got %d, want 403", code)
		}
	})
	t.Run("ErrSupervisor", func(t *testing.T) {
		sup := e.signIn("supervisor")
		sup.get("/search")
		if code, _, _ := sup.upload("/quality", url.Values{"modality": {"face"}}, map[string][]byte{"image": fixture(t, "face-a1.jpg")}); code != http.StatusForbidden {
			t.Fatalf("got %d, want 403", code)
		}
	})
}

func TestIdentify(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	e := mustOpenWith(t, true)
	e.srv = httptestTLS(t, e)
	b := e.signIn("supervisor")
	b.get("/identify")
	fields := url.Values{"slot_0": {"finger-2"}, "slot_1": {"finger-3"}, "slot_2": {"iris-right"}, "slot_3": {"iris-left"}}
	files := map[string][]byte{"image_0": fixture(t, "finger-101_2.png"), "image_1": fixture(t, "finger-102_2.png"),
		"image_2": fixture(t, "iris-001R02.jpg"), "image_3": fixture(t, "iris-001L02.jpg")}
	code, body, _ := b.upload("/identify", fields, files)
	if code != http.StatusOK || !strings.Contains(body, `href="/subjects/`+e.subject+`"`) {
		t.Fatalf("search by image: %d, want %s among the candidates\n%s", code, e.subject, body)
	}
	if got := count(e.auditActions(e.users["supervisor"].ID), "identify"); got != 1 {
		t.Errorf("identify events: got %d, want 1", got)
	}
	t.Run("ErrRepeatedSlot", func(t *testing.T) {
		f := url.Values{"slot_0": {"finger-2"}, "slot_1": {"finger-2"}}
		code, body, _ := b.upload("/identify", f, map[string][]byte{"image_0": files["image_0"], "image_1": files["image_1"]})
		if code != http.StatusBadRequest || !strings.Contains(body, "Imagen 2") {
			t.Fatalf("got %d\n%s", code, body)
		}
	})
	t.Run("Unavailable", func(t *testing.T) {
		plain := MustOpenEnv(t)
		_, body := plain.signIn("supervisor").get("/identify")
		if !strings.Contains(body, "no está activa") {
			t.Fatalf("without an identifier:\n%s", body)
		}
	})
}
