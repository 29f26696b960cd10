package sitelink

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/huella-abis/huella"
)

// SiteKey is a site allowed to join the hub: its code and the public nkey
// ("U…") of the seed in its credentials file.
type SiteKey struct {
	Code      string
	PublicKey string
}

// HubConfig configures the center's side of the links.
type HubConfig struct {
	// Listen is the address sites connect to ("0.0.0.0:7422").
	Listen string
	// Sites are the sites allowed to join, each by its nkey.
	Sites []SiteKey
	// TLS, when set, secures the leaf connections: the hub presents its
	// certificate (and, with ClientCAs, requires sites to present one).
	TLS *tls.Config
	// MaxPayload is the largest message; DefaultMaxPayload when zero.
	MaxPayload int32
	// Workers is how many encounters the center enrolls at once; 2 when zero.
	Workers int
	Logger  *slog.Logger
}

// Handler enrolls an encounter a site sent (site is the site its
// credentials name) and returns the center's identification of it. A
// retry of an encounter already enrolled is answered with the first one.
type Handler func(ctx context.Context, site string, u *Upload) (*huella.CentralIdentification, error)

// Hub is the center's NATS server for the site links.
type Hub struct {
	cfg    HubConfig
	server *server.Server
	conn   *nats.Conn

	wg     sync.WaitGroup
	sem    chan struct{}
	cancel context.CancelFunc

	mu      sync.Mutex
	contact map[string]time.Time // when each site was last heard from
}

// SiteState is the center's view of one site's link.
type SiteState struct {
	Linked      bool      // a leaf connection of the site is up
	LastContact time.Time // the site's last request (zero: none since the hub started)
}

// SiteStates returns the state of every configured site's link, by code.
// A leaf connection is the site's whose subscriptions lie under its
// prefix (its credentials allow no other).
func (h *Hub) SiteStates() map[string]SiteState {
	states := make(map[string]SiteState, len(h.cfg.Sites))
	h.mu.Lock()
	for _, s := range h.cfg.Sites {
		states[s.Code] = SiteState{LastContact: h.contact[s.Code]}
	}
	h.mu.Unlock()
	z, err := h.server.Leafz(&server.LeafzOptions{Subscriptions: true})
	if err != nil {
		return states
	}
	for _, leaf := range z.Leafs {
		for _, sub := range leaf.Subs {
			if code, ok := siteOfSubject(sub); ok {
				if st, known := states[code]; known {
					st.Linked = true
					states[code] = st
				}
				break
			}
		}
	}
	return states
}

// contacted records that the site was just heard from.
func (h *Hub) contacted(site string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.contact == nil {
		h.contact = make(map[string]time.Time)
	}
	h.contact[site] = time.Now()
}

// OpenHub starts the hub's NATS server, listening for leaf connections.
func OpenHub(cfg HubConfig) (*Hub, error) {
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	host, portText, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sitelink: leafnodes address: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("sitelink: leafnodes port: %w", err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	// The center's own connection authenticates with a key made now.
	self, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("sitelink: hub key: %w", err)
	}
	selfPub, _ := self.PublicKey()
	users := []*server.NkeyUser{{Nkey: selfPub}}
	for _, s := range cfg.Sites {
		if err := checkSiteCode(s.Code); err != nil {
			return nil, err
		}
		if !nkeys.IsValidPublicUserKey(s.PublicKey) {
			return nil, fmt.Errorf("sitelink: site %s: not a public user nkey", s.Code)
		}
		// A leaf's permissions are written from the site's side: what it
		// may send to the center and what it may receive from it.
		only := &server.SubjectPermission{Allow: []string{SitePrefix(s.Code) + ".>"}}
		users = append(users, &server.NkeyUser{Nkey: s.PublicKey,
			Permissions: &server.Permissions{Publish: only, Subscribe: only}})
	}
	opts := &server.Options{
		ServerName: "huella-center",
		DontListen: true,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: cfg.MaxPayload,
		MaxPending: 4 * int64(cfg.MaxPayload),
		Nkeys:      users,
		// Sites dial the address they are given (the center may sit
		// behind NAT or a proxy): the hub does not advertise its own.
		LeafNode: server.LeafNodeOpts{Host: host, Port: port, NoAdvertise: true, Compression: noCompression},
	}
	if cfg.TLS != nil {
		opts.LeafNode.TLSConfig = cfg.TLS.Clone()
		opts.LeafNode.TLSTimeout = 5
		if cfg.TLS.ClientCAs != nil {
			opts.LeafNode.TLSConfig.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("sitelink: hub server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("sitelink: hub server not ready after 30 s")
	}
	h := &Hub{cfg: cfg, server: ns, sem: make(chan struct{}, cfg.Workers)}
	h.conn, err = nats.Connect("", nats.InProcessServer(ns), nats.Name("huella-center"),
		nats.Nkey(selfPub, self.Sign), nats.MaxReconnects(-1))
	if err != nil {
		ns.Shutdown()
		return nil, fmt.Errorf("sitelink: hub connect: %w", err)
	}
	return h, nil
}

// LeafURL is the URL sites join at (nats-leaf://HOST:PORT).
func (h *Hub) LeafURL() string {
	v, err := h.server.Varz(nil)
	if err != nil || v.LeafNode.Port <= 0 {
		return ""
	}
	return "nats-leaf://" + net.JoinHostPort(v.LeafNode.Host, strconv.Itoa(v.LeafNode.Port))
}

// LinkedSites returns how many sites are connected now.
func (h *Hub) LinkedSites() int { return h.server.NumLeafNodes() }

// Serve answers every configured site's encounters with handle, up to
// Workers at once, until Close.
func (h *Hub) Serve(ctx context.Context, handle Handler) error {
	ctx, h.cancel = context.WithCancel(ctx)
	for _, s := range h.cfg.Sites {
		site := s.Code
		sub, err := h.conn.QueueSubscribe(EncounterSubject(site), "huella-center", func(m *nats.Msg) {
			select {
			case h.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				defer func() { <-h.sem }()
				h.answer(ctx, site, m, handle)
			}()
		})
		if err != nil {
			return fmt.Errorf("sitelink: subscribe %s: %w", site, err)
		}
		// Messages wait here while the workers are busy: a site has at
		// most its relay's few sends in flight, each up to MaxPayload,
		// and none may be dropped as a slow consumer's.
		if err := sub.SetPendingLimits(-1, 64*int(h.cfg.MaxPayload)); err != nil {
			return fmt.Errorf("sitelink: subscribe %s: %w", site, err)
		}
	}
	return h.conn.Flush()
}

// DownstreamSource returns the site's downstream items after the seq
// (huella.SiteOutboxStore.SiteDownstream at the center).
type DownstreamSource func(ctx context.Context, site string, after int64, limit int) ([]huella.DownstreamItem, error)

// downstreamRequest and downstreamReply are the wire form of a pull.
type downstreamRequest struct {
	After int64 `json:"after"`
}

type downstreamReply struct {
	Items []huella.DownstreamItem `json:"items"`
	Error string                  `json:"error,omitempty"`
}

// ServeDownstream answers every configured site's pulls from source.
func (h *Hub) ServeDownstream(ctx context.Context, source DownstreamSource) error {
	for _, s := range h.cfg.Sites {
		site := s.Code
		_, err := h.conn.Subscribe(DownstreamSubject(site), func(m *nats.Msg) {
			h.contacted(site)
			var req downstreamRequest
			var reply downstreamReply
			if err := json.Unmarshal(m.Data, &req); err != nil {
				reply.Error = "bad request"
			} else if reply.Items, err = source(ctx, site, req.After, 100); err != nil {
				h.cfg.Logger.Error("site downstream failed", "site", site, "err", err)
				reply.Error = "internal error"
			}
			data, _ := json.Marshal(&reply)
			m.Respond(data)
		})
		if err != nil {
			return fmt.Errorf("sitelink: subscribe %s: %w", site, err)
		}
	}
	return h.conn.Flush()
}

// WatchSource returns the center's watchlist changes after the seq
// (huella.SiteOutboxStore.WatchChanges at the center).
type WatchSource func(ctx context.Context, after int64, limit int) ([]*huella.WatchChange, error)

// watchPage is how many changes one pull returns: templates of a
// hundred entries are a few megabytes at most.
const watchPage = 100

// ServeWatch answers every configured site's watchlist pulls from source.
func (h *Hub) ServeWatch(ctx context.Context, source WatchSource) error {
	for _, s := range h.cfg.Sites {
		site := s.Code
		_, err := h.conn.Subscribe(WatchSubject(site), func(m *nats.Msg) {
			h.contacted(site)
			var req downstreamRequest
			var reply watchReply
			if err := json.Unmarshal(m.Data, &req); err != nil {
				reply.Error = "bad request"
			} else if changes, err := source(ctx, req.After, watchPage); err != nil {
				h.cfg.Logger.Error("site watchlist pull failed", "site", site, "err", err)
				reply.Error = "internal error"
			} else {
				reply.Changes = encodeWatchChanges(changes)
			}
			data, _ := json.Marshal(&reply)
			m.Respond(data)
		})
		if err != nil {
			return fmt.Errorf("sitelink: subscribe %s: %w", site, err)
		}
	}
	return h.conn.Flush()
}

// Reply is the center's answer to one upload.
type Reply struct {
	Central *huella.CentralIdentification `json:"central,omitempty"`
	Code    string                        `json:"code,omitempty"` // huella error code of a refusal
	Message string                        `json:"message,omitempty"`
}

func (h *Hub) answer(ctx context.Context, site string, m *nats.Msg, handle Handler) {
	h.contacted(site)
	var reply Reply
	u, err := DecodeUpload(m.Data)
	if err == nil && (u.Encounter.ID == "" || m.Header.Get(MsgIDHeader) != u.Encounter.ID) {
		err = fmt.Errorf("%w: %s does not name the encounter", ErrBadUpload, MsgIDHeader)
	}
	if err != nil {
		reply.Code, reply.Message = huella.EINVALID, err.Error()
	} else if reply.Central, err = handle(ctx, site, u); err != nil {
		reply.Code, reply.Message = huella.ErrorCode(err), huella.ErrorMessage(err)
		if reply.Code == huella.EINTERNAL || reply.Code == "" {
			h.cfg.Logger.Error("site encounter failed", "site", site, "err", err)
			reply.Code, reply.Message = huella.EINTERNAL, "internal error"
		}
	}
	data, _ := json.Marshal(&reply)
	if err := m.Respond(data); err != nil {
		h.cfg.Logger.Warn("site reply not sent", "site", site, "err", err)
	}
}

// Close stops answering, waits for the enrollments under way and stops
// the server.
func (h *Hub) Close() error {
	if h.cancel != nil {
		h.cancel()
	}
	if h.conn != nil {
		h.conn.Drain()
	}
	h.wg.Wait()
	if h.conn != nil {
		h.conn.Close()
	}
	h.server.Shutdown()
	h.server.WaitForShutdown()
	return nil
}
