package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/forward"
	"github.com/huella-abis/huella/natsbus"
)

// ForwardConfig configures forwarding to partner agencies in "huella serve".
type ForwardConfig struct {
	NATS       string // external NATS URL; empty runs NATS embedded, storing in DATA/nats
	NATSListen string // address the embedded NATS accepts clients on; empty opens no port
	// NATSCert and NATSKey put the NATS connection on TLS: the embedded
	// server's certificate, or ours towards an external server that asks
	// for one. NATSCA is the CA the other side's certificate must chain
	// to: the server's (external), or the clients' (embedded, which then
	// admits only clients with a certificate it signs).
	NATSCert, NATSKey, NATSCA string
	DeadAfter                 time.Duration // retry a delivery this long before parking it as dead
	AckWait                   time.Duration // redeliver a delivery whose worker went silent after this long
	Workers                   int           // deliveries sent at once
}

// registerForwardFlags binds the forwarding flags of "huella serve".
func (c *ForwardConfig) registerForwardFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.NATS, "nats", os.Getenv("HUELLA_NATS"), "external NATS URL for the delivery queue; empty runs NATS embedded ($HUELLA_NATS)")
	fs.StringVar(&c.NATSListen, "nats-listen", os.Getenv("HUELLA_NATS_LISTEN"), "address the embedded NATS listens on, e.g. 127.0.0.1:4222; empty opens no port ($HUELLA_NATS_LISTEN)")
	fs.StringVar(&c.NATSCert, "nats-cert", os.Getenv("HUELLA_NATS_CERT"), "certificate (PEM) that puts NATS on TLS: the embedded server's, or ours for an external server ($HUELLA_NATS_CERT)")
	fs.StringVar(&c.NATSKey, "nats-key", os.Getenv("HUELLA_NATS_KEY"), "the key of --nats-cert (PEM) ($HUELLA_NATS_KEY)")
	fs.StringVar(&c.NATSCA, "nats-ca", os.Getenv("HUELLA_NATS_CA"), "CA (PEM) the external NATS server's certificate, or the embedded server's clients', must chain to ($HUELLA_NATS_CA)")
	fs.DurationVar(&c.DeadAfter, "forward-dead-after", envDuration("HUELLA_FORWARD_DEAD_AFTER", forward.DefaultDeadAfter), "park a delivery as dead after retrying this long ($HUELLA_FORWARD_DEAD_AFTER)")
	fs.DurationVar(&c.AckWait, "forward-ack-wait", envDuration("HUELLA_FORWARD_ACK_WAIT", natsbus.DefaultAckWait), "hand a delivery to another worker after this long without news ($HUELLA_FORWARD_ACK_WAIT)")
	fs.IntVar(&c.Workers, "forward-workers", envInt("HUELLA_FORWARD_WORKERS", forward.DefaultWorkers), "deliveries sent at once ($HUELLA_FORWARD_WORKERS)")
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// natsTLS returns the TLS settings of the NATS connection, or nil when
// none is asked for. The embedded server needs its certificate and key
// (and with --nats-ca requires clients' certificates); a connection to an
// external server verifies it against --nats-ca (the system's roots
// otherwise) and presents our certificate when one is given.
func (c *ForwardConfig) natsTLS() (*tls.Config, error) {
	if c.NATSCert == "" && c.NATSKey == "" && c.NATSCA == "" {
		return nil, nil
	}
	if (c.NATSCert == "") != (c.NATSKey == "") {
		return nil, &ConfigError{"nats-cert", "--nats-cert and --nats-key go together"}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.NATSCert != "" {
		pair, err := tls.LoadX509KeyPair(c.NATSCert, c.NATSKey)
		if err != nil {
			return nil, &ConfigError{"nats-cert", err.Error()}
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	var pool *x509.CertPool
	if c.NATSCA != "" {
		pem, err := os.ReadFile(c.NATSCA)
		if err != nil {
			return nil, &ConfigError{"nats-ca", err.Error()}
		}
		if pool = x509.NewCertPool(); !pool.AppendCertsFromPEM(pem) {
			return nil, &ConfigError{"nats-ca", c.NATSCA + " holds no PEM certificate"}
		}
	}
	if c.NATS != "" {
		cfg.RootCAs = pool
		return cfg, nil
	}
	if c.NATSListen == "" {
		return nil, &ConfigError{"nats-cert", "the embedded NATS opens no port to secure: give --nats-listen too"}
	}
	if c.NATSCert == "" {
		return nil, &ConfigError{"nats-cert", "the embedded NATS server needs its certificate and key to listen on TLS"}
	}
	cfg.ClientCAs = pool
	return cfg, nil
}

// forwarding is the running relay and workers of an App, and their bus.
type forwarding struct {
	bus       *natsbus.Bus
	forwarder *forward.Forwarder
}

// StartForwarding opens the delivery queue (embedded NATS unless a URL is
// configured), serves our signing keys at /.well-known/jwks.json and starts
// the relay and the delivery workers. Close stops them.
func (a *App) StartForwarding(ctx context.Context) error {
	cfg := a.Config.Forward
	if cfg.AckWait < time.Second {
		return &ConfigError{"forward-ack-wait", "must be at least 1s"}
	}
	keys, err := forward.LoadOrCreateKeyRing(filepath.Join(a.Config.Data, "keys", "signing"))
	if err != nil {
		return err
	}
	tlsConfig, err := cfg.natsTLS()
	if err != nil {
		return err
	}
	bus, err := natsbus.Open(ctx, natsbus.Config{URL: cfg.NATS, StoreDir: filepath.Join(a.Config.Data, "nats"),
		Listen: cfg.NATSListen, TLS: tlsConfig, AckWait: cfg.AckWait, Replicas: a.Config.StreamReplicas, Logger: a.Logger.With("component", "natsbus")})
	if err != nil {
		return err
	}
	metrics := forward.NewMetrics()
	if err := a.HTTP.EnableForwarding(keys, metrics); err != nil {
		bus.Close()
		return err
	}
	f := &forward.Forwarder{Store: a.Store, Records: a.Store, Images: a.Blobs.Get, Queue: bus, Keys: keys,
		Logger: a.Logger.With("component", "forward"), Metrics: metrics, DeadAfter: cfg.DeadAfter, Workers: cfg.Workers,
		AuditCheckpoint: a.latestAuditCheckpoint}
	if err := f.Open(ctx); err != nil {
		bus.Close()
		return err
	}
	a.forwarding = &forwarding{bus: bus, forwarder: f}
	return nil
}

// stopForwarding stops the workers and the relay, then the queue.
func (a *App) stopForwarding() error {
	if a.forwarding == nil {
		return nil
	}
	err := errors.Join(a.forwarding.forwarder.Close(), a.forwarding.bus.Close())
	a.forwarding = nil
	return err
}

const partnerUsage = `usage:
  huella partner add --code GT-PNC --name NAME --endpoint https://... [--format json|ansinist] [--ca-file F] [--client-cert F --client-key F] [--key-id KID]
  huella partner list [--json]
  huella partner disable|enable --code GT-PNC
  huella partner agreement add --partner GT-PNC --trigger conviction|hit|duplicate... [--category wanted...] [--modality finger...] [--field names...] --legal-basis TEXT [--require-ack]
  huella partner agreement list [--partner GT-PNC] [--json]
  huella partner agreement revoke --id agr_...
  huella partner deliveries [--partner GT-PNC] [--state pending|published|delivered|dead] [--limit N] [--json]
  huella partner keys        (print our public signing keys, as served at /.well-known/jwks.json)
  huella partner rotate-key  (make a new signing key current; older keys stay published; restart serve to use it)`

// partnerRun is the work of one "huella partner" verb on the opened app.
type partnerRun func(ctx context.Context, app *App, stdout io.Writer) error

// partnerVerbs are the verbs that work on the records: each binds its own
// flags (and says whether it only reads) and returns its work.
var partnerVerbs = map[string]func(fs *flag.FlagSet, cfg *Config) partnerRun{
	"add":              partnerAdd,
	"list":             partnerList,
	"disable":          func(fs *flag.FlagSet, cfg *Config) partnerRun { return partnerSetDisabled(fs, true) },
	"enable":           func(fs *flag.FlagSet, cfg *Config) partnerRun { return partnerSetDisabled(fs, false) },
	"agreement add":    agreementAdd,
	"agreement list":   agreementList,
	"agreement revoke": agreementRevoke,
	"deliveries":       partnerDeliveries,
}

// runPartner runs "huella partner …": partner agencies, their sharing
// agreements and the deliveries to them. Every change is audited.
func runPartner(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(partnerUsage)
	}
	verb, rest := args[0], args[1:]
	if verb == "agreement" {
		if len(rest) == 0 {
			return errors.New(partnerUsage)
		}
		verb, rest = "agreement "+rest[0], rest[1:]
	}
	if isHelp(verb) || verb == "agreement help" || strings.HasPrefix(verb, "agreement -") {
		return printHelp(stdout, partnerUsage)
	}
	if verb == "keys" || verb == "rotate-key" {
		return runPartnerKeys(verb, rest, stdout, stderr)
	}
	bind, ok := partnerVerbs[verb]
	if !ok {
		return errors.New(partnerUsage)
	}
	var cfg Config
	fs := newFlagSet("partner "+verb, "huella partner "+verb+" [flags]", stderr)
	cfg.registerFlags(fs, false)
	run := bind(fs, &cfg)
	if err := parseFlags(fs, rest, 0); err != nil {
		return err
	}
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	return run(systemContext(ctx, huella.PurposeAdministration), app, stdout)
}

// runPartnerKeys prints our public signing keys (keys) or makes a new one
// current (rotate-key): files in the data directory, no store.
func runPartnerKeys(verb string, args []string, stdout, stderr io.Writer) error {
	var data string
	fs := newFlagSet("partner "+verb, "huella partner "+verb+" [flags]", stderr)
	fs.StringVar(&data, "data", envOr("HUELLA_DATA", "./huella-data"), "data directory ($HUELLA_DATA)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if fi, err := os.Stat(data); verb == "keys" && (err != nil || !fi.IsDir()) {
		// Listing never creates data.
		return fmt.Errorf("data directory %s does not exist (give --data or $HUELLA_DATA)", data)
	}
	dir := filepath.Join(data, "keys", "signing")
	keys, err := forward.LoadOrCreateKeyRing(dir)
	if err != nil {
		return err
	}
	if verb == "rotate-key" {
		k, err := keys.Rotate(dir, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "signing key %s is current; restart huella serve to sign with it\n", k.ID)
		return nil
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(keys.JWKS())
}

func partnerAdd(fs *flag.FlagSet, cfg *Config) partnerRun {
	cfg.registerPartnerFileFlag(fs)
	var p huella.Partner
	fs.StringVar(&p.Code, "code", "", "partner code, e.g. GT-PNC")
	fs.StringVar(&p.Name, "name", "", "agency name")
	fs.StringVar(&p.Endpoint, "endpoint", "", "https URL deliveries are POSTed to")
	fs.StringVar((*string)(&p.Format), "format", "json", "payload format: json or ansinist")
	fs.StringVar(&p.CAFile, "ca-file", "", "CA certificate of the partner's server (PEM); empty: system roots")
	fs.StringVar(&p.ClientCertFile, "client-cert", "", "our client certificate for mutual TLS (PEM)")
	fs.StringVar(&p.ClientKeyFile, "client-key", "", "our client key for mutual TLS (PEM)")
	fs.StringVar(&p.KeyID, "key-id", "", "our signing key for this partner; empty: the current key")
	return func(ctx context.Context, app *App, stdout io.Writer) error {
		if err := p.CheckFiles(app.Config.PartnerFileDir); err != nil {
			return fmt.Errorf("add partner: %s", huella.ErrorMessage(err))
		}
		if err := app.Store.CreatePartner(ctx, &p); err != nil {
			return fmt.Errorf("add partner: %s", huella.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "partner %s created\n", p.Code)
		return nil
	}
}

// jsonFlag binds --json on a verb that lists, which never creates data: a
// missing data directory is an error.
func jsonFlag(fs *flag.FlagSet, cfg *Config) *bool {
	cfg.Existing = true
	return fs.Bool("json", false, "print one JSON object per row")
}

func partnerList(fs *flag.FlagSet, cfg *Config) partnerRun {
	asJSON := jsonFlag(fs, cfg)
	return func(ctx context.Context, app *App, stdout io.Writer) error {
		list, err := app.Store.ListPartners(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSONLines(stdout, list)
		}
		writeHeader(stdout, "CODE", "FORMAT", "STATE", "ENDPOINT", "NAME")
		for _, p := range list {
			state := "enabled"
			if p.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", p.Code, p.Format, state, p.Endpoint, p.Name)
		}
		return nil
	}
}

func partnerSetDisabled(fs *flag.FlagSet, disabled bool) partnerRun {
	verb := map[bool]string{true: "disable", false: "enable"}[disabled]
	code := fs.String("code", "", "partner code")
	return func(ctx context.Context, app *App, stdout io.Writer) error {
		p, err := app.Store.FindPartner(ctx, *code)
		if err != nil {
			return fmt.Errorf("%s partner: %s", verb, huella.ErrorMessage(err))
		}
		p.Disabled = disabled
		if err := app.Store.UpdatePartner(ctx, p); err != nil {
			return fmt.Errorf("%s partner: %s", verb, huella.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "partner %s %sd\n", p.Code, verb)
		return nil
	}
}

func agreementAdd(fs *flag.FlagSet, cfg *Config) partnerRun {
	var a huella.Agreement
	var triggers, categories, modalities, fields stringList
	fs.StringVar(&a.Partner, "partner", "", "partner code")
	fs.Var(&triggers, "trigger", "trigger that forwards: conviction, hit or duplicate (repeatable)")
	fs.Var(&categories, "category", "watchlist category, for the hit trigger (repeatable)")
	fs.Var(&modalities, "modality", "modality whose images may leave: finger, iris, face, smt (repeatable)")
	fs.Var(&fields, "field", "field that may leave: "+fieldNames()+" (repeatable)")
	fs.StringVar(&a.LegalBasis, "legal-basis", "", "treaty or memorandum and article")
	fs.BoolVar(&a.RequireAck, "require-ack", false, "a delivery is done only with the partner's receipt")
	return func(ctx context.Context, app *App, stdout io.Writer) error {
		a.Triggers = kinds[huella.Trigger](triggers)
		a.Categories = categories
		a.Modalities = kinds[huella.Modality](modalities)
		a.Fields = kinds[huella.Field](fields)
		if err := app.Store.CreateAgreement(ctx, &a); err != nil {
			return fmt.Errorf("add agreement: %s", huella.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "agreement %s with %s created\n", a.ID, a.Partner)
		return nil
	}
}

func agreementList(fs *flag.FlagSet, cfg *Config) partnerRun {
	asJSON := jsonFlag(fs, cfg)
	code := fs.String("partner", "", "partner code (empty: all)")
	return func(ctx context.Context, app *App, stdout io.Writer) error {
		list, err := app.Store.ListAgreements(ctx, *code)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSONLines(stdout, list)
		}
		writeHeader(stdout, "ID", "PARTNER", "STATE", "SCOPE", "LEGAL_BASIS")
		for _, a := range list {
			state := "active"
			if !a.Active {
				state = "revoked"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\ttriggers=%s categories=%s modalities=%s fields=%s require_ack=%t\t%s\n",
				a.ID, a.Partner, state, join(a.Triggers), strings.Join(a.Categories, ","), join(a.Modalities), join(a.Fields),
				a.RequireAck, a.LegalBasis)
		}
		return nil
	}
}

func agreementRevoke(fs *flag.FlagSet, cfg *Config) partnerRun {
	id := fs.String("id", "", "agreement ID")
	return func(ctx context.Context, app *App, stdout io.Writer) error {
		if err := app.Store.RevokeAgreement(ctx, *id); err != nil {
			return fmt.Errorf("revoke agreement: %s", huella.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "agreement %s revoked\n", *id)
		return nil
	}
}

func partnerDeliveries(fs *flag.FlagSet, cfg *Config) partnerRun {
	asJSON := jsonFlag(fs, cfg)
	code := fs.String("partner", "", "partner code (empty: all)")
	state := fs.String("state", "", "pending, published, delivered or dead")
	limit := fs.Int("limit", 100, "at most this many, newest first")
	return func(ctx context.Context, app *App, stdout io.Writer) error {
		list, err := app.Store.ListDeliveries(ctx, huella.DeliveryFilter{Partner: *code, State: huella.DeliveryState(*state), Limit: *limit})
		if err != nil {
			return fmt.Errorf("deliveries: %s", huella.ErrorMessage(err))
		}
		if *asJSON {
			return writeJSONLines(stdout, list)
		}
		writeHeader(stdout, "ID", "PARTNER", "TRIGGER", "STATE", "ATTEMPTS", "RECEIPT", "LAST_ERROR")
		for _, d := range list {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Partner, d.Trigger, d.State,
				d.Attempts, d.Receipt, d.LastError)
		}
		return nil
	}
}

// writeJSONLines writes each row as one JSON object on its own line.
func writeJSONLines[T any](w io.Writer, rows []T) error {
	for _, r := range rows {
		if err := writeJSONLine(w, r); err != nil {
			return err
		}
	}
	return nil
}

func kinds[T ~string](list []string) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = T(v)
	}
	return out
}

func join[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

func fieldNames() string { return join(huella.Fields) }
