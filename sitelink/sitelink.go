// Package sitelink joins site nodes to the center over NATS leaf nodes.
// The center runs a NATS server (Hub) that accepts leaf connections, one
// nkey per site, each allowed to publish and receive only under its own
// site's subjects (huella.site.CODE.>). A site runs its own NATS server
// (Leaf) inside the process, joined to the hub as a leaf node, and a Relay
// that sends the encounters of its outbox to the center, one request per
// encounter, and records the center's identification it is answered with.
//
// The outbox is the site's database table, written in each encounter's
// transaction, not a JetStream stream: it holds the encounter while the
// link is down, survives a crash with the records it belongs to, and the
// center makes a retry harmless (its enrollment is idempotent by the
// site's encounter ID), so a send that was lost in the middle is sent
// again and answered with the first decision.
package sitelink

import (
	"fmt"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// Subjects of a site: the center answers encounters on EncounterSubject;
// the site's replies come back under InboxPrefix. Both lie under
// SitePrefix, the only subjects a site's credentials allow.
func SitePrefix(site string) string       { return "huella.site." + site }
func EncounterSubject(site string) string { return SitePrefix(site) + ".encounter" }
func InboxPrefix(site string) string      { return SitePrefix(site) + ".inbox" }

// siteOfSubject returns the site code of a subject under a SitePrefix.
func siteOfSubject(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, "huella.site.")
	if !ok {
		return "", false
	}
	code, _, ok := strings.Cut(rest, ".")
	return code, ok && code != ""
}

// DownstreamSubject is where a site asks the center what to do to its
// copies (purges ordered at the center), after the last item it applied.
func DownstreamSubject(site string) string { return SitePrefix(site) + ".downstream" }

// WatchSubject is where a site asks the center for the watchlist changes
// after the last one it applied (every site replicates every watchlist).
func WatchSubject(site string) string { return SitePrefix(site) + ".watch" }

// DefaultMaxPayload is the largest message hub and leaf accept: an
// encounter with its images travels as one message (13 images of 1.5 MB
// take 20 MB).
const DefaultMaxPayload = 48 << 20

// MsgIDHeader is the NATS header naming the site's encounter ID, as
// JetStream's deduplication names it.
const MsgIDHeader = "Nats-Msg-Id"

// checkSiteCode refuses a code that could widen a subject (dots,
// wildcards, spaces).
func checkSiteCode(code string) error {
	if code == "" || strings.ContainsAny(code, ".*> \t\r\n") {
		return fmt.Errorf("sitelink: site code %q cannot name subjects", code)
	}
	return nil
}

// noCompression turns off the leaf link's S2 compression, which NATS
// enables by default and raises to its best level when the round trip
// exceeds 20 ms (a loaded box, a slow WAN link): what a site sends is
// images in compressed formats (WSQ, JPEG, JPEG 2000, PNG), which S2 only
// spends CPU on. Measured: BENCHMARKS.md, "Site nodes".
var noCompression = server.CompressionOpts{Mode: server.CompressionOff}
