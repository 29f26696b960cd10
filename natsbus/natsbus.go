// Package natsbus is the work queue deliveries travel on: a NATS JetStream
// stream with work-queue retention and deduplication by message ID. By
// default it runs a NATS server inside the process, with JetStream's file
// storage in the data directory and no port opened unless asked; given a
// URL it uses an external NATS server or cluster instead. The code above
// the connection is the same for both.
package natsbus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/huella-abis/huella"
)

// Defaults of Config.
const (
	DefaultStream     = "HUELLA_DELIVERIES"
	DefaultSubject    = "huella.deliveries"
	DefaultConsumer   = "delivery-workers"
	DefaultDuplicates = 10 * time.Minute
	DefaultAckWait    = 30 * time.Second
)

// Config says which NATS to use and how the queue is named.
type Config struct {
	// URL of an external NATS server or cluster ("nats://host:4222",
	// comma-separated for several). Empty runs an embedded server.
	URL string
	// StoreDir is where the embedded server keeps JetStream's files.
	StoreDir string
	// Listen is the address the embedded server accepts clients on
	// ("127.0.0.1:4222"); empty opens no port (the process connects in
	// memory).
	Listen string
	// TLS, when set, secures the connections: the embedded server's
	// listener presents its certificate (and, with ClientCAs, accepts only
	// clients whose certificate they sign), and the connection to an
	// external server verifies it against RootCAs (and presents a client
	// certificate if the config holds one). Go's defaults otherwise: TLS
	// 1.2 and up.
	TLS *tls.Config

	Stream     string        // stream name; DefaultStream when empty
	Subject    string        // subject of the messages; DefaultSubject when empty
	Consumer   string        // durable consumer of the workers; DefaultConsumer when empty
	Duplicates time.Duration // deduplication window; DefaultDuplicates when zero
	// AckWait is how long a message handed to a worker stays invisible to
	// the others before it is redelivered (the worker died, say).
	AckWait  time.Duration
	Replicas int // stream replicas on a cluster; 1 when zero
	// SyncAlways makes the embedded server sync every message to disk
	// before acknowledging it. Without it a crash of the machine (not of
	// the process) may lose recently published messages; the deliveries
	// stay in the database, and the forwarder publishes them again.
	SyncAlways bool
	Logger     *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Subject == "" {
		c.Subject = DefaultSubject
	}
	if c.Consumer == "" {
		c.Consumer = DefaultConsumer
	}
	if c.Duplicates == 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Bus is an open connection to the queue. It implements huella.Queue.
type Bus struct {
	cfg    Config
	server *server.Server // the embedded server, or nil
	conn   *nats.Conn
	js     jetstream.JetStream

	mu       sync.Mutex
	consumer jetstream.Consumer // nil until the stream and consumer exist
}

var _ huella.Queue = (*Bus)(nil)

// Open starts the embedded server or connects to the external one, and
// creates the stream and the workers' consumer if they do not exist. An
// external server that cannot be reached does not stop Open: the bus keeps
// trying in the background, and Publish and Next fail until it answers, so
// that Huella serves (and its outbox fills) while NATS is away.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	cfg.setDefaults()
	b := &Bus{cfg: cfg}
	var err error
	if cfg.URL == "" {
		if b.server, err = startServer(cfg); err != nil {
			return nil, err
		}
		b.conn, err = nats.Connect("", nats.InProcessServer(b.server), nats.Name("huella"), nats.MaxReconnects(-1))
	} else {
		opts := []nats.Option{nats.Name("huella"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
			nats.ReconnectWait(250 * time.Millisecond), nats.ReconnectJitter(100*time.Millisecond, 100*time.Millisecond),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { cfg.Logger.Warn("nats disconnected", "err", err) }),
			nats.ReconnectHandler(func(c *nats.Conn) { cfg.Logger.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) })}
		if cfg.TLS != nil {
			opts = append(opts, nats.Secure(cfg.TLS.Clone()))
		}
		b.conn, err = nats.Connect(cfg.URL, opts...)
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("natsbus: connect: %w", err)
	}
	if b.js, err = jetstream.New(b.conn); err != nil {
		b.Close()
		return nil, fmt.Errorf("natsbus: jetstream: %w", err)
	}
	if _, err := b.ready(ctx); err != nil {
		if b.server != nil {
			b.Close()
			return nil, err
		}
		cfg.Logger.Warn("nats stream not ready; retrying on use", "err", err)
	}
	return b, nil
}

// startServer runs the embedded NATS server with JetStream on file storage.
func startServer(cfg Config) (*server.Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("natsbus: an embedded server needs a store directory")
	}
	opts := &server.Options{
		ServerName: "huella",
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		SyncAlways: cfg.SyncAlways,
	}
	if cfg.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("natsbus: listen address: %w", err)
		}
		opts.Host = host
		if opts.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("natsbus: listen port: %w", err)
		}
		if cfg.TLS != nil {
			opts.TLSConfig = cfg.TLS.Clone()
			opts.TLS, opts.TLSVerify = true, cfg.TLS.ClientCAs != nil
			if opts.TLSVerify {
				opts.TLSConfig.ClientAuth = tls.RequireAndVerifyClientCert
			}
			opts.TLSTimeout = 5
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsbus: embedded server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("natsbus: embedded server not ready after 30 s")
	}
	return ns, nil
}

// Ready reports whether the server answers and the stream is in place.
func (b *Bus) Ready(ctx context.Context) error {
	_, err := b.ready(ctx)
	return err
}

// ready returns the workers' consumer, creating the stream and the
// consumer the first time the server answers.
func (b *Bus) ready(ctx context.Context) (jetstream.Consumer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.consumer != nil {
		return b.consumer, nil
	}
	if !b.conn.IsConnected() {
		return nil, fmt.Errorf("natsbus: not connected to %s", b.cfg.URL)
	}
	if err := b.ensure(ctx); err != nil {
		return nil, err
	}
	return b.consumer, nil
}

// ensure creates or updates the stream and the durable consumer.
func (b *Bus) ensure(ctx context.Context) error {
	stream, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        b.cfg.Stream,
		Description: "Huella deliveries to partner agencies",
		Subjects:    []string{b.cfg.Subject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  b.cfg.Duplicates,
		Replicas:    b.cfg.Replicas,
	})
	if err != nil {
		return fmt.Errorf("natsbus: stream %s: %w", b.cfg.Stream, err)
	}
	b.consumer, err = stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       b.cfg.Consumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       b.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 10000,
	})
	if err != nil {
		return fmt.Errorf("natsbus: consumer %s: %w", b.cfg.Consumer, err)
	}
	return nil
}

// Publish adds a message to the stream and waits for the server to store
// it. A second message with the same id within the deduplication window
// is acknowledged and dropped.
func (b *Bus) Publish(ctx context.Context, id string, data []byte) error {
	if _, err := b.ready(ctx); err != nil {
		return err
	}
	if _, err := b.js.Publish(ctx, b.cfg.Subject, data, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("natsbus: publish: %w", err)
	}
	return nil
}

// Next waits up to wait for the next message for the workers. It returns
// nil, nil when none came in time.
func (b *Bus) Next(ctx context.Context, wait time.Duration) (huella.QueueMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	consumer, err := b.ready(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := consumer.Next(jetstream.FetchMaxWait(wait))
	switch {
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, jetstream.ErrNoMessages):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("natsbus: next: %w", err)
	}
	return msg, nil
}

// Pending returns how many messages wait in the stream, for metrics.
func (b *Bus) Pending(ctx context.Context) (uint64, error) {
	stream, err := b.js.Stream(ctx, b.cfg.Stream)
	if err != nil {
		return 0, fmt.Errorf("natsbus: stream: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("natsbus: stream info: %w", err)
	}
	return info.State.Msgs, nil
}

// ClientURL returns the URL clients reach the embedded server at, or ""
// when it opens no port or the bus is external.
func (b *Bus) ClientURL() string {
	if b.server == nil || b.cfg.Listen == "" {
		return ""
	}
	return b.server.ClientURL()
}

// DeleteStream removes the stream and its messages (tests on a shared
// external server clean up with it).
func (b *Bus) DeleteStream(ctx context.Context) error {
	return b.js.DeleteStream(ctx, b.cfg.Stream)
}

// Close closes the connection and stops the embedded server.
func (b *Bus) Close() error {
	if b.conn != nil {
		b.conn.Close()
	}
	if b.server != nil {
		b.server.Shutdown()
		b.server.WaitForShutdown()
	}
	return nil
}
