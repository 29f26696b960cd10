package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
)

// TestSiteNode wires a center and a site node as serve does: the center
// makes the site's credentials, the site node enrolls an encounter, shows
// it pending, and shows the center's decision once the relay has sent it.
func TestSiteNode(t *testing.T) {
	ctx := context.Background()
	centerData := filepath.Join(t.TempDir(), "center")
	siteData := filepath.Join(t.TempDir(), "site")
	creds := filepath.Join(t.TempDir(), "mx-tij.creds")
	for _, data := range []string{centerData, siteData} {
		MustRun(t, "site", "add", "--data", data, "--code", "MX-TIJ", "--name", "Tijuana", "--country", "MEX", "--tz", "America/Tijuana")
	}
	MustRun(t, "site", "creds", "--data", centerData, "--code", "MX-TIJ", "--out", creds)

	center, err := OpenApp(ctx, Config{Data: centerData, Existing: true, SiteLinks: SiteLinkConfig{Leafnodes: "127.0.0.1:0"}}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer center.Close()
	if err := center.StartSiteLinks(ctx); err != nil {
		t.Fatal(err)
	}
	site, err := OpenApp(ctx, Config{Data: siteData, Existing: true,
		SiteLinks: SiteLinkConfig{Site: "MX-TIJ", Hub: center.siteLinks.hub.LeafURL(), HubCreds: creds}}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	if err := site.StartSiteLinks(ctx); err != nil {
		t.Fatal(err)
	}

	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 40, 50)))
	officer := &huella.User{ID: "usr_officer", Name: "officer", Role: huella.RoleOfficer, Sites: []string{"MX-TIJ"}}
	octx := huella.NewContextWithPurpose(huella.NewContextWithActor(ctx, officer), huella.PurposeEnforcement)
	e, err := site.Enroll.Enroll(octx, &enroll.Request{Encounter: &huella.Encounter{SiteCode: "MX-TIJ",
		CapturedAt: time.Now().Add(-time.Minute), Reason: huella.ReasonDetention, CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Biographics: huella.Biographics{Names: []huella.Name{{Given: "Ana", Family: "Ruiz"}}, Sex: huella.SexFemale},
		Samples:     []*huella.Sample{{Modality: huella.ModalityFace}}}, Images: [][]byte{img.Bytes()}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Central == nil || e.Central.State != huella.CentralPending {
		t.Fatalf("enrolled at the site: central %+v, want pending", e.Central)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := site.Store.FindEncounter(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Central != nil && got.Central.State == huella.CentralIdentified {
			at, err := center.Store.FindEncounter(ctx, got.Central.EncounterID)
			if err != nil {
				t.Fatalf("the center's encounter %s: %v", got.Central.EncounterID, err)
			}
			if at.SiteCode != "MX-TIJ" || at.SubjectID != got.Central.SubjectID {
				t.Errorf("at the center: site %s subject %s, want MX-TIJ and %s", at.SiteCode, at.SubjectID, got.Central.SubjectID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the center's identification did not reach the site: %+v", got.Central)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The console's view of the link, at both ends.
	if got := site.siteLinkStates(ctx)["MX-TIJ"]; !got.Linked || got.Queue != 0 {
		t.Errorf("the site's view of its link: %+v, want linked and nothing waiting", got)
	}
	if got := center.siteLinkStates(ctx)["MX-TIJ"]; !got.Linked || got.LastContact.IsZero() {
		t.Errorf("the center's view of MX-TIJ's link: %+v, want linked, with a last contact", got)
	}
}
