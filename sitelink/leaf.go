package sitelink

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/huella-abis/huella"
)

// LeafConfig configures a site node's NATS server and its link to the hub.
type LeafConfig struct {
	Site string // the site's code, e.g. MX-TIJ
	// Hub is the center's leaf URL, nats-leaf://HOST:PORT (tls:// with TLS).
	Hub string
	// Seed is the site's nkey seed ("SU…"), from its credentials file.
	Seed []byte
	// TLS, when set, secures the link: RootCAs verifies the hub, and a
	// client certificate in it is presented.
	TLS *tls.Config
	// Reconnect is how soon a broken link is tried again; 1 s when zero.
	Reconnect time.Duration
	// SendTimeout bounds one send and the center's enrollment of it, when
	// the caller's context does not; DefaultSendTimeout when zero.
	SendTimeout time.Duration
	MaxPayload  int32 // DefaultMaxPayload when zero
	Logger      *slog.Logger
}

// Leaf is a site node's NATS server, joined to the hub as a leaf node.
type Leaf struct {
	cfg    LeafConfig
	server *server.Server
	conn   *nats.Conn
}

// ReadSeed reads a site's credentials file: its nkey seed on a line of
// its own ("SU…"), other lines (comments) ignored.
func ReadSeed(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sitelink: credentials: %w", err)
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if bytes.HasPrefix(line, []byte("SU")) {
			if _, err := nkeys.FromSeed(line); err != nil {
				return nil, fmt.Errorf("sitelink: credentials %s: malformed seed", path)
			}
			return line, nil
		}
	}
	return nil, fmt.Errorf("sitelink: credentials %s hold no user seed", path)
}

// NewSiteKey makes a site's key pair: the seed for its credentials file
// and the public key the center allows.
func NewSiteKey() (seed []byte, public string, err error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, "", err
	}
	if seed, err = kp.Seed(); err != nil {
		return nil, "", err
	}
	public, err = kp.PublicKey()
	return seed, public, err
}

// OpenLeaf starts the site's NATS server, which joins the hub in the
// background and keeps trying while the link is down: the site works
// offline and Send fails fast until the link is up.
func OpenLeaf(cfg LeafConfig) (*Leaf, error) {
	if err := checkSiteCode(cfg.Site); err != nil {
		return nil, err
	}
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.Reconnect == 0 {
		cfg.Reconnect = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hub, err := url.Parse(cfg.Hub)
	if err != nil || hub.Host == "" {
		return nil, fmt.Errorf("sitelink: hub URL %q: want nats-leaf://HOST:PORT", cfg.Hub)
	}
	if hub.Scheme == "nats-leaf" {
		hub.Scheme = "nats"
	}
	if _, err := nkeys.FromSeed(cfg.Seed); err != nil {
		return nil, errors.New("sitelink: the site's seed is malformed")
	}
	remote := &server.RemoteLeafOpts{URLs: []*url.URL{hub}, Nkey: string(cfg.Seed), Compression: noCompression}
	if cfg.TLS != nil {
		remote.TLS, remote.TLSConfig, remote.TLSTimeout = true, cfg.TLS.Clone(), 5
	}
	opts := &server.Options{
		ServerName: "huella-site-" + cfg.Site,
		DontListen: true,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: cfg.MaxPayload,
		MaxPending: 4 * int64(cfg.MaxPayload),
		LeafNode:   server.LeafNodeOpts{ReconnectInterval: cfg.Reconnect, Remotes: []*server.RemoteLeafOpts{remote}},
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("sitelink: site server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("sitelink: site server not ready after 30 s")
	}
	l := &Leaf{cfg: cfg, server: ns}
	l.conn, err = nats.Connect("", nats.InProcessServer(ns), nats.Name("huella-site"),
		nats.CustomInboxPrefix(InboxPrefix(cfg.Site)), nats.MaxReconnects(-1))
	if err != nil {
		ns.Shutdown()
		return nil, fmt.Errorf("sitelink: site connect: %w", err)
	}
	return l, nil
}

// Linked reports whether the link to the hub is up.
func (l *Leaf) Linked() bool { return l.server.NumLeafNodes() > 0 }

// LinkBytes returns the payload bytes the site has sent to the hub and
// received from it over the current link (zero while unlinked).
func (l *Leaf) LinkBytes() (sent, received int64) {
	z, err := l.server.Leafz(nil)
	if err != nil {
		return 0, 0
	}
	for _, leaf := range z.Leafs {
		sent += leaf.OutBytes
		received += leaf.InBytes
	}
	return sent, received
}

// Conn is the site's connection to its own server (tests publish with it).
func (l *Leaf) Conn() *nats.Conn { return l.conn }

// DefaultSendTimeout is how long a send waits for the center's answer: a
// reply lost with a link that broke mid-send is not waited for longer (the
// encounter is sent again, and the center answers the retry).
const DefaultSendTimeout = 30 * time.Second

// ErrUnlinked is the error of a send while the hub cannot be reached.
var ErrUnlinked = errors.New("sitelink: the center cannot be reached")

// Send sends one encounter to the center and waits for its
// identification. ErrUnlinked while the link is down; the center's
// refusal is a huella error with its code.
func (l *Leaf) Send(ctx context.Context, u *Upload) (*huella.CentralIdentification, error) {
	// The message is built in a reused buffer: the connection copies it
	// before the request returns, and a fresh 20 MB one per encounter was
	// a tenth of the relay's CPU (allocating and zeroing it).
	data := u.wire
	if data == nil {
		buf := uploadBuffers.Get().(*[]byte)
		defer uploadBuffers.Put(buf)
		var err error
		if data, err = AppendUpload((*buf)[:0], u); err != nil {
			return nil, err
		}
		*buf = data
	}
	msg := nats.NewMsg(EncounterSubject(l.cfg.Site))
	msg.Header.Set(MsgIDHeader, u.Encounter.ID)
	msg.Data = data
	resp, err := l.request(ctx, msg)
	if err != nil {
		return nil, err
	}
	var reply Reply
	if err := json.Unmarshal(resp.Data, &reply); err != nil {
		return nil, fmt.Errorf("sitelink: reply: %w", err)
	}
	if reply.Code != "" {
		return nil, huella.Errorf(reply.Code, "center: %s", reply.Message)
	}
	if reply.Central == nil || reply.Central.State != huella.CentralIdentified {
		return nil, errors.New("sitelink: the center's reply holds no identification")
	}
	return reply.Central, nil
}

// uploadBuffers holds the buffers Send builds its messages in.
var uploadBuffers = sync.Pool{New: func() any { return new([]byte) }}

// request sends msg to the center and waits for the answer, at most
// SendTimeout, and no longer than the link lasts: a request in flight when
// the link breaks is ErrUnlinked at once (its reply cannot come back; the
// center answers the resend), rather than a wait that would hold the
// relay past the link's return.
func (l *Leaf) request(ctx context.Context, msg *nats.Msg) (*nats.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.SendTimeout)
	defer cancel()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if !l.Linked() {
					cancel()
					return
				}
			}
		}
	}()
	resp, err := l.conn.RequestMsgWithContext(ctx, msg)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, ErrUnlinked
	case err != nil && !l.Linked():
		return nil, ErrUnlinked
	case err != nil:
		return nil, fmt.Errorf("sitelink: request %s: %w", msg.Subject, err)
	}
	return resp, nil
}

// Pull asks the center for the site's downstream items after the seq.
// ErrUnlinked while the link is down.
func (l *Leaf) Pull(ctx context.Context, after int64) ([]huella.DownstreamItem, error) {
	msg := nats.NewMsg(DownstreamSubject(l.cfg.Site))
	msg.Data, _ = json.Marshal(&downstreamRequest{After: after})
	resp, err := l.request(ctx, msg)
	if err != nil {
		return nil, err
	}
	var reply downstreamReply
	if err := json.Unmarshal(resp.Data, &reply); err != nil {
		return nil, fmt.Errorf("sitelink: pull reply: %w", err)
	}
	if reply.Error != "" {
		return nil, fmt.Errorf("sitelink: pull: center: %s", reply.Error)
	}
	return reply.Items, nil
}

// PullWatch asks the center for its watchlist changes after the seq.
// ErrUnlinked while the link is down.
func (l *Leaf) PullWatch(ctx context.Context, after int64) ([]*huella.WatchChange, error) {
	msg := nats.NewMsg(WatchSubject(l.cfg.Site))
	msg.Data, _ = json.Marshal(&downstreamRequest{After: after})
	resp, err := l.request(ctx, msg)
	if err != nil {
		return nil, err
	}
	var reply watchReply
	if err := json.Unmarshal(resp.Data, &reply); err != nil {
		return nil, fmt.Errorf("sitelink: watchlist reply: %w", err)
	}
	if reply.Error != "" {
		return nil, fmt.Errorf("sitelink: watchlist pull: center: %s", reply.Error)
	}
	changes, err := decodeWatchChanges(reply.Changes)
	if err != nil {
		return nil, fmt.Errorf("sitelink: watchlist reply: %w", err)
	}
	return changes, nil
}

// Close closes the connection and stops the site's server.
func (l *Leaf) Close() error {
	l.conn.Close()
	l.server.Shutdown()
	l.server.WaitForShutdown()
	return nil
}
