package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/audit"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/fusion"
	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/http/console"
	"github.com/huella-abis/huella/internal/requestid"
	"github.com/huella-abis/huella/keyring"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/sqlite"
)

// Config chooses Huella's adapters. The embedded defaults (SQLite and files
// under Data) run one facility on one box; a PostgreSQL DSN moves the
// records to a server.
type Config struct {
	Addr string // listen address of the API and console
	Data string // data directory: database, blobs, key
	// KeyFile is the key-encryption key (KEK) that wraps the data keys
	// kept in the store; default DATA.key, beside (outside) the data
	// directory. $HUELLA_KEK (hex or base64) gives the KEK instead of a
	// file. A data directory from before the key hierarchy has it at
	// DATA/keys/data.key.
	KeyFile string
	// KMS, when set, names a KEK held by a key manager instead: a PKCS#11
	// URI (kms.ParsePKCS11) of an AES key in an HSM, which never leaves it.
	KMS string
	// AllowKeyInData lets the KEK file be inside the data directory,
	// where every copy of the data carries its own key (demo allows it).
	AllowKeyInData bool
	Postgres       string        // PostgreSQL DSN; empty uses SQLite in Data
	Blobs          string        // image store: empty for Data/blobs, or s3://BUCKET[/PREFIX]?endpoint=…
	Forward        ForwardConfig // forwarding to partners (serve; partner.go)
	// MetricsAddr, when set, serves /metrics there instead of on Addr;
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsAddr, MetricsToken string
	// PartnerFileDir is the only directory partners' TLS files (CA,
	// client certificate and key) may be named in; default DATA/partner-tls.
	PartnerFileDir string
	// AuditKeyFile is the Ed25519 key that signs audit checkpoints,
	// default DATA/keys/audit.key; AuditCheckpoints the file they are
	// appended to, default DATA.audit-checkpoints beside (outside) the data
	// directory; AuditEvery how often serve signs one.
	AuditKeyFile, AuditCheckpoints string
	AuditEvery                     time.Duration
	// TwoPersonRule makes every hit confirmation take two examiners.
	TwoPersonRule bool
	// Existing makes OpenApp refuse a data directory, key or database that
	// does not exist yet instead of creating it: commands that only read
	// (or only manage records already there) never create data.
	Existing bool
	// TLSCert and TLSKey are PEM files: when set, the API and console are
	// served over HTTPS only.
	TLSCert, TLSKey string
	// TrustProxy believes the X-Forwarded-Proto of a reverse proxy that
	// terminates TLS in front of Huella.
	TrustProxy bool
	// Matchers, when set, is the NATS URL of the matcher shards that hold
	// the subject gallery (matcher.go); MatcherShards how many shards there
	// are, MatcherDeadline how long a search waits for them.
	Matchers        string
	MatcherShards   int
	MatcherDeadline time.Duration
	// StreamReplicas is how many servers of a NATS cluster keep each
	// JetStream stream this node creates (gallery events, deliveries).
	StreamReplicas int
	// SignOnConfig is the JSON file of the console's single sign-on
	// through an OpenID Connect provider (sso.go); empty: tokens only.
	SignOnConfig string
	// SiteLinks makes serve a center of site nodes or a site node
	// (sitelink.go).
	SiteLinks SiteLinkConfig
}

// ConfigError is a configuration value that does not hold.
type ConfigError struct {
	Field, Problem string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("config: %s: %s", e.Field, e.Problem) }

// registerFlags binds the configuration flags that every command that opens
// the data directory shares. Environment variables give the defaults.
func (c *Config) registerFlags(fs *flag.FlagSet, withAddr bool) {
	if withAddr {
		fs.StringVar(&c.Addr, "addr", envOr("HUELLA_ADDR", "127.0.0.1:8080"), "listen address ($HUELLA_ADDR)")
		fs.StringVar(&c.MetricsAddr, "metrics-addr", os.Getenv("HUELLA_METRICS_ADDR"), "serve /metrics on this address instead of --addr ($HUELLA_METRICS_ADDR)")
		fs.StringVar(&c.MetricsToken, "metrics-token", os.Getenv("HUELLA_METRICS_TOKEN"), "bearer token /metrics requires; empty: none ($HUELLA_METRICS_TOKEN)")
		fs.StringVar(&c.TLSCert, "tls-cert", os.Getenv("HUELLA_TLS_CERT"), "serve HTTPS with this PEM certificate (chain) file ($HUELLA_TLS_CERT)")
		fs.StringVar(&c.TLSKey, "tls-key", os.Getenv("HUELLA_TLS_KEY"), "the PEM private key of --tls-cert ($HUELLA_TLS_KEY)")
		fs.StringVar(&c.SignOnConfig, "sso-config", os.Getenv("HUELLA_SSO_CONFIG"), "console sign-in through an OpenID Connect provider, configured by this JSON file ($HUELLA_SSO_CONFIG)")
		fs.BoolVar(&c.TrustProxy, "trust-proxy", os.Getenv("HUELLA_TRUST_PROXY") == "true", "believe X-Forwarded-Proto from a reverse proxy that terminates TLS ($HUELLA_TRUST_PROXY=true)")
		c.Forward.registerForwardFlags(fs)
		fs.BoolVar(&c.TwoPersonRule, "two-person-rule", os.Getenv("HUELLA_TWO_PERSON_RULE") == "true", "a hit is confirmed only by two different examiners ($HUELLA_TWO_PERSON_RULE=true)")
		c.registerPartnerFileFlag(fs)
		c.registerAuditFlags(fs)
		c.registerMatcherFlags(fs)
		c.registerSiteLinkFlags(fs)
		fs.DurationVar(&c.AuditEvery, "audit-checkpoint-every", envDuration("HUELLA_AUDIT_CHECKPOINT_EVERY", audit.DefaultCheckpointEvery), "sign an audit checkpoint this often when the chain grew ($HUELLA_AUDIT_CHECKPOINT_EVERY)")
	}
	fs.StringVar(&c.Data, "data", envOr("HUELLA_DATA", "./huella-data"), "data directory ($HUELLA_DATA)")
	fs.StringVar(&c.KeyFile, "key-file", os.Getenv("HUELLA_KEY_FILE"), "key-encryption key file, outside the data directory; default DATA.key beside it ($HUELLA_KEY_FILE; or the key itself in $HUELLA_KEK, hex or base64)")
	fs.StringVar(&c.KMS, "kms", os.Getenv("HUELLA_KMS"), "key-encryption key in an HSM instead of a file ($HUELLA_KMS): pkcs11:token=T;object=KEY?module-path=LIB.so[&pin-source=FILE], the PIN in HUELLA_PKCS11_PIN or the file")
	fs.BoolVar(&c.AllowKeyInData, "allow-key-in-data", os.Getenv("HUELLA_ALLOW_KEY_IN_DATA") == "true", "accept a key file inside the data directory, where a copy of the data carries its key ($HUELLA_ALLOW_KEY_IN_DATA=true)")
	fs.StringVar(&c.Postgres, "postgres", os.Getenv("HUELLA_POSTGRES"), "PostgreSQL DSN; empty uses SQLite in the data directory ($HUELLA_POSTGRES)")
	fs.StringVar(&c.Blobs, "blobs", os.Getenv("HUELLA_BLOBS"), "image store: empty for DATA/blobs, or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=R][&insecure=true] with $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY ($HUELLA_BLOBS)")
	registerLogLevel(fs)
}

// registerPartnerFileFlag binds --partner-tls-dir, for the commands that
// take partners' TLS files (serve, partner add); others do not show it.
func (c *Config) registerPartnerFileFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.PartnerFileDir, "partner-tls-dir", os.Getenv("HUELLA_PARTNER_TLS_DIR"), "the only directory partners' TLS files may be named in, default DATA/partner-tls ($HUELLA_PARTNER_TLS_DIR)")
}

// registerAuditFlags binds the audit checkpoints' key and file, for the
// commands that sign (serve) or check (audit verify) them.
func (c *Config) registerAuditFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.AuditKeyFile, "audit-key", os.Getenv("HUELLA_AUDIT_KEY"), "Ed25519 key that signs audit checkpoints, default DATA/keys/audit.key ($HUELLA_AUDIT_KEY)")
	fs.StringVar(&c.AuditCheckpoints, "audit-checkpoints", os.Getenv("HUELLA_AUDIT_CHECKPOINTS"), "file signed audit checkpoints are appended to, outside the data directory; default DATA.audit-checkpoints ($HUELLA_AUDIT_CHECKPOINTS)")
}

// logLevel is the level of the process logger, set by --log-level.
var logLevel = new(slog.LevelVar)

// registerLogLevel binds --log-level (default $HUELLA_LOG_LEVEL, else info).
func registerLogLevel(fs *flag.FlagSet) {
	var def slog.Level
	if err := def.UnmarshalText([]byte(os.Getenv("HUELLA_LOG_LEVEL"))); err != nil {
		def = slog.LevelInfo
	}
	defVar := new(slog.LevelVar)
	defVar.Set(def)
	fs.TextVar(logLevel, "log-level", defVar, "log level: debug, info, warn or error ($HUELLA_LOG_LEVEL)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return os.ExpandEnv(v)
	}
	return def
}

// Validate reports the first configuration value that does not hold.
func (c *Config) Validate() error {
	if c.Data == "" {
		return &ConfigError{"data", "a data directory is required"}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return &ConfigError{"tls-cert", "--tls-cert and --tls-key go together"}
	}
	return nil
}

// checkExisting reports a data directory, data key or SQLite database
// that does not exist, for commands that must not create them.
func (c *Config) checkExisting() error {
	if fi, err := os.Stat(c.Data); err != nil || !fi.IsDir() {
		return fmt.Errorf("data directory %s does not exist (give --data or $HUELLA_DATA)", c.Data)
	}
	if _, err := os.Stat(c.KeyFile); err != nil && os.Getenv("HUELLA_KEK") == "" && c.KMS == "" {
		return fmt.Errorf("key %s does not exist: is %s a Huella data directory? (give --key-file or $HUELLA_KEK)", c.KeyFile, c.Data)
	}
	if c.Postgres == "" {
		if _, err := os.Stat(filepath.Join(c.Data, "huella.db")); err != nil {
			return fmt.Errorf("no database in %s: is it a Huella data directory?", c.Data)
		}
	}
	return nil
}

// BlobStore is where the images are: a directory or an S3 bucket, whose
// orphans "huella purge --orphans" sweeps.
type BlobStore interface {
	huella.BlobStore
	Sweep(ctx context.Context, before time.Time, refs func(ctx context.Context, fn func(ref string) error) error, dryRun bool) (*blob.SweepReport, error)
	// The blob keys and their rotation (see "huella keys rotate --images").
	SetKeys(*blob.Keys) error
	SetKeySource(blob.KeySource)
	KeyUsage(ctx context.Context) (map[string]int, error)
	Reseal(ctx context.Context, batch int, progress func(blob.ResealProgress)) error
}

// openBlobs opens the blob store the configuration names.
func openBlobs(ctx context.Context, cfg Config, key []byte) (BlobStore, error) {
	if strings.HasPrefix(cfg.Blobs, "s3://") {
		return blob.OpenS3(ctx, cfg.Blobs, key)
	}
	if cfg.Blobs != "" {
		return nil, &ConfigError{"blobs", "an image store is empty (the data directory) or s3://…"}
	}
	return blob.NewFileStore(filepath.Join(cfg.Data, "blobs"), key)
}

// App is an opened Huella: its store, blobs and services, wired by hand.
type App struct {
	Config Config
	Logger *slog.Logger
	Store  huella.Database
	Blobs  BlobStore
	Enroll *enroll.Service
	HTTP   *hhttp.Server
	// Identifier is set by StartIdentification (serve, demo): commands that
	// only manage records do without the engines.
	Identifier *match.Identifier
	// Keys holds the store's keys, unwrapped by the KEK.
	Keys   *keyring.Keyring
	kek    keyring.KEK // closed with the app when it holds a session (a KMS)
	key    []byte
	cancel context.CancelFunc
	// stopMatchers closes the matcher shards' client (serve --matchers).
	stopMatchers func()
	// siteLinks is a center's hub or a site's link (StartSiteLinks).
	siteLinks *siteLinks
	// matcherConn is the connection to the matchers' NATS (serve
	// --matchers), where the gallery event stream is.
	matcherConn *nats.Conn
	// stopRelay and stopEvents stop StartGalleryEvents' relay and
	// follower.
	stopRelay  func()
	stopEvents context.CancelFunc
	// stopReencryption stops StartReencryption's work (serve).
	stopReencryption context.CancelFunc
	wg               sync.WaitGroup
	forwarding       *forwarding         // set by StartForwarding (serve)
	checkpoints      *audit.Checkpointer // set by StartAuditCheckpoints (serve)
	// auditNotes is the same, for the forwarder's workers to read the
	// newest checkpoint from (deliveries carry it).
	auditNotes atomic.Pointer[audit.Checkpointer]
}

// OpenApp opens the store and blob store the configuration names, running
// schema migrations, and wires the services. It does not listen.
func OpenApp(ctx context.Context, cfg Config, logger *slog.Logger) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		var err error
		if tlsConfig, err = hhttp.TLSConfig(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, err
		}
	}
	var signOn *console.SignOn
	if cfg.SignOnConfig != "" {
		var err error
		if signOn, err = loadSignOn(cfg.SignOnConfig); err != nil {
			return nil, err
		}
	}
	cfg.KeyFile = cfg.keyFile()
	if cfg.Existing {
		if err := cfg.checkExisting(); err != nil {
			return nil, err
		}
	}
	// The key first: a key refused or missing leaves nothing written.
	kek, kekExisted, err := cfg.loadKEK()
	if err != nil {
		return nil, err
	}
	if closer, ok := kek.(io.Closer); ok {
		defer func() {
			if err != nil {
				closer.Close()
			}
		}()
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if cfg.AuditKeyFile == "" {
		cfg.AuditKeyFile = filepath.Join(cfg.Data, "keys", "audit.key")
	}
	if cfg.AuditCheckpoints == "" {
		cfg.AuditCheckpoints = filepath.Clean(cfg.Data) + ".audit-checkpoints"
	}
	if cfg.PartnerFileDir == "" {
		cfg.PartnerFileDir = filepath.Join(cfg.Data, "partner-tls")
	}
	if abs, err := filepath.Abs(cfg.PartnerFileDir); err == nil {
		cfg.PartnerFileDir = abs
	}
	a := &App{Config: cfg, Logger: logger, kek: kek}
	if cfg.Postgres != "" {
		a.Store, err = postgres.Open(ctx, cfg.Postgres)
	} else {
		a.Store, err = sqlite.Open(filepath.Join(cfg.Data, "huella.db"))
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if a.Keys, err = openKeyring(ctx, cfg, kek, kekExisted, a.Store); err != nil {
		a.Store.Close()
		return nil, err
	}
	a.key = a.Keys.BlobKey()
	if a.Blobs, err = openBlobs(ctx, cfg, a.key); err != nil {
		a.Store.Close()
		return nil, err
	}
	if err := useBlobKeys(a.Blobs, a.Keys); err != nil {
		a.Store.Close()
		return nil, err
	}
	if cfg.SiteLinks.Site != "" {
		// Before any enrollment: every encounter of a site node is queued
		// for the center in its own transaction.
		a.Store.KeepSiteOutbox()
	}
	a.Enroll = enroll.NewService(a.Store, a.Blobs)
	a.Enroll.Logger = logger.With("component", "enroll")
	a.HTTP = hhttp.NewServer(a.Store, a.Blobs, a.Enroll, logger.With("component", "http"))
	a.HTTP.TLS, a.HTTP.TrustProxy = tlsConfig, cfg.TrustProxy
	a.HTTP.PartnerFileDir = cfg.PartnerFileDir
	if a.HTTP.Adjudicate != nil {
		a.HTTP.Adjudicate.TwoPersonRule = cfg.TwoPersonRule
	}
	if signOn != nil {
		// Every API node over this store seals the sign-in state alike,
		// so the provider's callback may reach any of them.
		signOn.StateKey = a.Keys.Token("console-sso-state", "v1")
	}
	if a.HTTP.Console, err = console.New(console.Config{Store: a.Store, Blobs: a.Blobs,
		Enroll: a.Enroll, Adjudicate: a.HTTP.Adjudicate, Logger: logger.With("component", "console"),
		TrustProxy: cfg.TrustProxy, PartnerFileDir: cfg.PartnerFileDir, Uploads: a.HTTP.Uploads, SignOn: signOn,
		SiteLinks: a.siteLinkStates}); err != nil {
		return nil, err
	}
	return a, nil
}

// identificationEngines loads the engines and the shipped calibrations
// that identification scores with: the API's identifier and every matcher
// shard use these, so that a sharded search scores as one box does.
func identificationEngines() ([]engine.Engine, fusion.Set, error) {
	cals, err := fusion.Default()
	if err != nil {
		return nil, nil, err
	}
	face, err := engine.NewFace()
	if err != nil {
		return nil, nil, fmt.Errorf("load face models: %w", err)
	}
	return []engine.Engine{engine.Finger{}, engine.Iris{}, face}, cals, nil
}

// StartIdentification loads the engines and the calibrations, makes
// enrollment identify, and loads the galleries from the store in the
// background; /readyz reports ready once they are loaded.
func (a *App) StartIdentification(ctx context.Context) error {
	engines, cals, err := identificationEngines()
	if err != nil {
		return err
	}
	a.Identifier = match.NewIdentifier(a.Store, engines, cals)
	a.Enroll.Identifier = a.Identifier
	a.HTTP.Adjudicate.Identifier = a.Identifier
	a.HTTP.Ready = a.Identifier.Ready
	a.HTTP.Observe()
	if err := a.startMatcherClient(ctx); err != nil {
		return err
	}
	ctx, a.cancel = context.WithCancel(ctx)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		start := time.Now()
		subjects, watch, err := a.Identifier.Load(ctx)
		if err != nil {
			a.Logger.Error("gallery load failed", "err", err)
			return
		}
		a.Logger.Info("galleries loaded", "subject_templates", subjects, "watchlist_templates", watch,
			"seconds", time.Since(start).Seconds())
	}()
	return nil
}

// StartAuditCheckpoints signs the audit chain's head now, periodically
// and at Close, to the checkpoint file and (when forwarding runs) the NATS
// audit stream. A chain that no longer matches its checkpoints is not
// signed: the failure is logged and serving goes on, for an auditor to
// look into with "huella audit verify".
func (a *App) StartAuditCheckpoints(ctx context.Context) error {
	key, err := audit.LoadOrCreateKey(a.Config.AuditKeyFile)
	if err != nil {
		return err
	}
	c := &audit.Checkpointer{Store: a.Store, Key: key, File: a.Config.AuditCheckpoints, Every: a.Config.AuditEvery,
		Logger: a.Logger.With("component", "audit")}
	if a.forwarding != nil {
		c.Publish = a.forwarding.bus.PublishCheckpoint
	}
	if err := c.Open(ctx); err != nil {
		if errors.Is(err, audit.ErrChainBroken) {
			a.Logger.Error("audit chain does not match its checkpoints; not signing", "err", err)
			return nil
		}
		return err
	}
	a.checkpoints = c
	a.auditNotes.Store(c)
	return nil
}

// latestAuditCheckpoint returns the newest signed audit checkpoint, or nil.
func (a *App) latestAuditCheckpoint() []byte {
	if c := a.auditNotes.Load(); c != nil {
		return c.Latest()
	}
	return nil
}

// WaitIdentification waits until the galleries are loaded.
func (a *App) WaitIdentification(ctx context.Context) error {
	for a.Identifier.Ready() != nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// Close stops serving and the background work, and closes the a.Store.
func (a *App) Close() error {
	var errs []error
	if a.HTTP != nil {
		errs = append(errs, a.HTTP.Close())
	}
	if a.cancel != nil {
		a.cancel()
	}
	if a.stopReencryption != nil {
		a.stopReencryption()
	}
	if a.stopEvents != nil {
		a.stopEvents()
	}
	a.wg.Wait()
	if a.stopRelay != nil {
		a.stopRelay()
	}
	if a.stopMatchers != nil {
		a.stopMatchers()
	}
	if a.siteLinks != nil {
		a.siteLinks.close()
	}
	if a.checkpoints != nil {
		// The last checkpoint, once no request can add an event.
		errs = append(errs, a.checkpoints.Close())
	}
	errs = append(errs, a.stopForwarding())
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	if closer, ok := a.kek.(io.Closer); ok {
		errs = append(errs, closer.Close())
	}
	return errors.Join(errs...)
}

// newLogger returns the process logger: JSON lines on w, at --log-level,
// each line of an API request naming its request_id. Components derive
// their own with .With("component", name). Nothing logged carries
// biometric data or biographic values.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(requestid.Handler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: logLevel})))
}

// systemContext is the context of work done by the command line itself.
func systemContext(ctx context.Context, purpose huella.Purpose) context.Context {
	return huella.NewContextWithPurpose(ctx, purpose)
}

// waitReady polls the store until it answers or the timeout passes.
func waitReady(ctx context.Context, s huella.Store, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := s.Ping(ctx)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
