package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/keyring"
	"github.com/huella-abis/huella/kms"
)

// keyFile returns the KEK file the configuration names: --key-file, else
// DATA/keys/data.key when a data directory from before the key hierarchy
// has one there, else DATA.key beside the data directory.
func (c *Config) keyFile() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	legacy := filepath.Join(c.Data, "keys", "data.key")
	if _, err := os.Stat(legacy); err == nil {
		return legacy
	}
	return filepath.Clean(c.Data) + ".key"
}

// loadKEK returns the key-encryption key: $HUELLA_KEK, else the key file.
// A key file inside the data directory is refused unless AllowKeyInData; a
// missing one is created only for a data directory that holds no database
// yet (PostgreSQL's keys are checked by openKeyring). It reports whether
// the key existed before.
func (c *Config) loadKEK() (kek keyring.KEK, existed bool, err error) {
	if c.KMS != "" {
		return c.loadKMS()
	}
	if text := os.Getenv("HUELLA_KEK"); text != "" {
		k, err := keyring.ParseKEK(text)
		if err != nil {
			return nil, false, fmt.Errorf("$HUELLA_KEK: %w", err)
		}
		return k, true, nil
	}
	path := c.keyFile()
	if keyring.Inside(path, c.Data) && !c.AllowKeyInData {
		return nil, false, &ConfigError{"key-file", fmt.Sprintf("the key %s is inside the data directory %s, so every copy of the data would carry its key: "+
			"move it out (for example to %s.key, or give --key-file or $HUELLA_KEK), or accept the risk with --allow-key-in-data",
			path, c.Data, filepath.Clean(c.Data))}
	}
	k, err := keyring.LoadKEKFile(path)
	if err == nil {
		return k, true, nil
	}
	if !keyring.IsNotExist(err) {
		return nil, false, err
	}
	if c.Postgres == "" {
		if _, err := os.Stat(filepath.Join(c.Data, "huella.db")); err == nil {
			return nil, false, fmt.Errorf("key %s does not exist, and the database in %s is encrypted under it: give --key-file or $HUELLA_KEK", path, c.Data)
		}
	}
	if c.Existing {
		return nil, false, fmt.Errorf("key %s does not exist (give --key-file or $HUELLA_KEK)", path)
	}
	k, err = keyring.CreateKEKFile(path)
	return k, false, err
}

// loadKMS opens the KEK that --kms names in its key manager. A missing key
// is made there only for a store that does not exist yet, as a missing key
// file is.
func (c *Config) loadKMS() (keyring.KEK, bool, error) {
	pc, err := kms.ParsePKCS11(c.KMS)
	if err != nil {
		return nil, false, &ConfigError{"kms", err.Error()}
	}
	k, err := kms.OpenPKCS11(pc, false)
	if err == nil {
		return k, true, nil
	}
	if !errors.Is(err, kms.ErrKeyNotFound) {
		return nil, false, err
	}
	if c.Postgres == "" {
		if _, serr := os.Stat(filepath.Join(c.Data, "huella.db")); serr == nil {
			return nil, false, fmt.Errorf("%w, and the database in %s is encrypted under a key-encryption key: check --kms", err, c.Data)
		}
	}
	if c.Existing {
		return nil, false, fmt.Errorf("%w (check --kms)", err)
	}
	k, err = kms.OpenPKCS11(pc, true)
	return k, false, err
}

// openKeyring unwraps the store's keys with the KEK (creating them in a new
// store) and makes the store seal with them. The images of a data
// directory from before the key hierarchy were sealed with the key file
// itself: it becomes the blob key.
func openKeyring(ctx context.Context, cfg Config, kek keyring.KEK, kekExisted bool, store huella.Database) (*keyring.Keyring, error) {
	keys, err := store.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var opt keyring.Options
	if len(keys) == 0 {
		if local, ok := kek.(*keyring.LocalKEK); ok && kekExisted && hasLegacyData(ctx, cfg, store) {
			opt.LegacyBlobKey = local.Raw()
		}
	}
	ring, err := keyring.Open(ctx, kek, store, opt)
	if err != nil {
		return nil, err
	}
	store.SealWith(ring)
	return ring, nil
}

// hasLegacyData reports whether a store without keys already holds records
// or images: written before the key hierarchy, with the key file as the
// data key.
func hasLegacyData(ctx context.Context, cfg Config, store huella.Database) bool {
	if u, err := store.KeyUsage(ctx); err == nil && len(u) > 0 {
		return true
	}
	if cfg.Blobs != "" {
		return false // a bucket's images come with records, found above
	}
	entries, err := os.ReadDir(filepath.Join(cfg.Data, "blobs"))
	return err == nil && len(entries) > 0
}

const keysUsage = `usage:
  huella keys status              the KEK, the keys and how many fields or images each seals
  huella keys rotate [--batch N]  make a new data key, move every record to it, retire the old keys
  huella keys rotate --images [--batch N]  make a new image (blob) key, reseal every image with it, retire the old
  huella keys reencrypt [--images] [--batch N]  resume a rotation cut short (or seal a store from before encryption)
  huella keys rewrap --new-key-file F  wrap the keys with a new KEK (made in F when missing), then use F
  huella keys rewrap --new-kms URI     wrap the keys with a KEK in an HSM (made there when missing), then use --kms URI`

// runKeys runs "huella keys VERB".
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(keysUsage)
	}
	if isHelp(args[0]) {
		return printHelp(stdout, keysUsage)
	}
	verb := args[0]
	var cfg Config
	fs := flag.NewFlagSet("keys "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.registerFlags(fs, false)
	batch, blobs := 0, false
	if verb == "rotate" || verb == "reencrypt" {
		fs.IntVar(&batch, "batch", 0, "records re-encrypted per transaction (500), or images resealed per sync (64)")
		fs.BoolVar(&blobs, "images", false, "the image (blob) key instead of the data key")
	}
	newKeyFile, newKMS := "", ""
	if verb == "rewrap" {
		fs.StringVar(&newKeyFile, "new-key-file", "", "the new key-encryption key file, outside the data directory (made when missing)")
		fs.StringVar(&newKMS, "new-kms", "", "the new key-encryption key in an HSM, a pkcs11: URI as --kms takes (made when missing)")
	}
	switch verb {
	case "status", "rotate", "reencrypt", "rewrap":
	default:
		return fmt.Errorf("unknown verb %q\n%s", verb, keysUsage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg.Existing = true
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	switch verb {
	case "status":
		return keysStatus(ctx, app, stdout)
	case "rewrap":
		return keysRewrap(ctx, app, newKeyFile, newKMS, stdout)
	case "rotate":
		if blobs {
			return rotateBlobKey(ctx, app, batch, stdout, stderr)
		}
		id, err := app.Keys.Rotate(ctx)
		if err != nil {
			return err
		}
		event := huella.NewAuditEvent(ctx, huella.ActionKeyCreate, "key/"+id, "")
		event.Detail = "purpose=data rotation"
		if err := app.Store.AppendAudit(ctx, event); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new data key %s is active; moving the records to it\n", id)
	}
	if blobs {
		return resealAndRetire(ctx, app, batch, stdout, stderr)
	}
	if batch <= 0 {
		batch = 500
	}
	return reencryptAndRetire(ctx, app, batch, stdout, stderr)
}

// reencryptAndRetire moves every record to the active key, then retires
// the data keys nothing uses any more.
func reencryptAndRetire(ctx context.Context, app *App, batch int, stdout, stderr io.Writer) error {
	start := time.Now()
	var last huella.ReencryptProgress
	var p *progress
	table := ""
	err := app.Store.Reencrypt(ctx, batch, func(r huella.ReencryptProgress) {
		if r.Table != table {
			if p != nil {
				p.Done()
			}
			table = r.Table
			p = newProgress(stderr, "keys: "+r.Table, r.Pending)
			last.Rewritten = r.Rewritten
		}
		p.Add(r.Rewritten - last.Rewritten)
		last = r
	})
	if p != nil {
		p.Done()
	}
	if err != nil {
		return fmt.Errorf("re-encrypt (run \"huella keys reencrypt\" to resume): %w", err)
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "re-encrypted %d records (%.1f MB) in %.1f s: %.0f records/s, %.2f MB/s\n",
		last.Rewritten, float64(last.Bytes)/1e6, secs, float64(last.Rewritten)/secs, float64(last.Bytes)/1e6/secs)
	usage, err := app.Store.KeyUsage(ctx)
	if err != nil {
		return err
	}
	active := app.Keys.ActiveKeyID()
	for _, id := range app.Keys.DataKeyIDs() {
		if id == active || usage[id] > 0 {
			continue
		}
		if err := app.Keys.Retire(ctx, id); err != nil {
			return err
		}
		if err := app.Store.AppendAudit(ctx, huella.NewAuditEvent(ctx, huella.ActionKeyRetire, "key/"+id, "")); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "data key %s retired\n", id)
	}
	return nil
}

// keysRewrap wraps every key in use with the KEK in path (made when
// missing) instead of the current one.
func keysRewrap(ctx context.Context, app *App, path, kmsURI string, stdout io.Writer) error {
	if (path == "") == (kmsURI == "") {
		return errors.New("keys rewrap: give --new-key-file or --new-kms")
	}
	var kek keyring.KEK
	use := "--key-file " + path
	if kmsURI != "" {
		pc, err := kms.ParsePKCS11(kmsURI)
		if err != nil {
			return &ConfigError{"new-kms", err.Error()}
		}
		k, err := kms.OpenPKCS11(pc, true)
		if err != nil {
			return err
		}
		defer k.Close()
		kek, use = k, "--kms '"+kmsURI+"'"
	} else {
		if keyring.Inside(path, app.Config.Data) && !app.Config.AllowKeyInData {
			return &ConfigError{"new-key-file", fmt.Sprintf("%s is inside the data directory %s (or give --allow-key-in-data)", path, app.Config.Data)}
		}
		k, err := keyring.LoadKEKFile(path)
		if keyring.IsNotExist(err) {
			k, err = keyring.CreateKEKFile(path)
		}
		if err != nil {
			return err
		}
		kek = k
	}
	old := app.Keys.KEKID()
	if err := app.Keys.Rewrap(ctx, kek); err != nil {
		return err
	}
	event := huella.NewAuditEvent(ctx, huella.ActionKeyRewrap, "kek/"+kek.ID(), "")
	event.Detail = "from=" + old
	if err := app.Store.AppendAudit(ctx, event); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "the keys are wrapped by %s now (were %s): start Huella with %s; the old key opens nothing any more\n", kek.ID(), old, use)
	return nil
}

func keysStatus(ctx context.Context, app *App, stdout io.Writer) error {
	keys, err := app.Store.ListKeys(ctx)
	if err != nil {
		return err
	}
	usage, err := app.Store.KeyUsage(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "KEK %s\n", app.Keys.KEKID())
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	blobUsage, err := app.Blobs.KeyUsage(ctx)
	if err != nil {
		return err
	}
	held := app.Keys.BlobKeys()
	fmt.Fprintln(tw, "KEY\tPURPOSE\tSTATE\tFIELDS\tIMAGES\tCREATED")
	for _, k := range keys {
		state := "in use"
		switch {
		case !k.RetiredAt.IsZero():
			state = "retired " + k.RetiredAt.Format(time.DateOnly)
		case k.Active:
			state = "active"
		}
		fields, images := "-", "-"
		if k.Purpose == huella.KeyPurposeData {
			fields = fmt.Sprint(usage[k.ID])
		}
		if raw, ok := held.Keys[k.ID]; ok && k.Purpose == huella.KeyPurposeBlob {
			images = fmt.Sprint(blobUsage[blob.KeyID(raw)])
		} else if k.Purpose == huella.KeyPurposeBlob {
			images = "0"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Purpose, state, fields, images, k.CreatedAt.Format(time.DateTime))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := usage[""]; n > 0 {
		fmt.Fprintf(stdout, "%d fields are not encrypted yet (written before encryption at rest): run \"huella keys reencrypt\"\n", n)
	}
	var others []string
	for id := range usage {
		if id != "" && id != app.Keys.ActiveKeyID() {
			others = append(others, id)
		}
	}
	sort.Strings(others)
	if len(others) > 0 {
		fmt.Fprintf(stdout, "fields under older keys %s: run \"huella keys reencrypt\"\n", strings.Join(others, ", "))
	}
	var olderBlobs []string
	for id, raw := range held.Keys {
		if id != held.ActiveID && blobUsage[blob.KeyID(raw)] > 0 {
			olderBlobs = append(olderBlobs, id)
		}
	}
	sort.Strings(olderBlobs)
	if len(olderBlobs) > 0 {
		fmt.Fprintf(stdout, "images under older keys %s: run \"huella keys reencrypt --images\"\n", strings.Join(olderBlobs, ", "))
	}
	if n := blobUsage[""]; n > 0 {
		fmt.Fprintf(stdout, "%d images name no key (format 1): run \"huella keys reencrypt --images\"\n", n)
	}
	return nil
}

// StartReencryption moves, in the background, the records a rotation cut
// short left under an older key (or a store from before encryption left in
// the clear) to the active key, and the images a blob key rotation cut
// short to the active blob key, then retires the keys nothing uses.
func (a *App) StartReencryption(ctx context.Context) error {
	if a.Keys == nil {
		return nil
	}
	ctx, a.stopReencryption = context.WithCancel(ctx)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		usage, err := a.Store.KeyUsage(ctx)
		if err != nil {
			a.Logger.Error("key usage", "err", err)
			return
		}
		active := a.Keys.ActiveKeyID()
		pending := 0
		for id, n := range usage {
			if id != active {
				pending += n
			}
		}
		if pending == 0 && len(a.Keys.DataKeyIDs()) == 1 {
			return
		}
		a.Logger.Info("re-encryption started", "fields", pending, "key", active)
		ctx := huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
		if err := reencryptAndRetire(ctx, a, 500, io.Discard, io.Discard); err != nil {
			a.Logger.Error("re-encryption failed", "err", err)
			return
		}
		a.Logger.Info("re-encryption done", "key", active)
	}()
	if keys := a.Keys.BlobKeys(); len(keys.Keys) > 1 {
		// A blob key rotation cut short: its images, too.
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.Logger.Info("image resealing started", "key", keys.ActiveID)
			ctx := huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
			if err := resealAndRetire(ctx, a, 0, io.Discard, io.Discard); err != nil {
				a.Logger.Error("image resealing failed", "err", err)
				return
			}
			a.Logger.Info("image resealing done", "key", keys.ActiveID)
		}()
	}
	return nil
}

// blobKeys returns the keyring's blob keys as a BlobStore takes them.
func blobKeys(k *keyring.BlobKeys) *blob.Keys {
	out := &blob.Keys{Active: k.Keys[k.ActiveID], Naming: k.Naming}
	for id, raw := range k.Keys {
		if id != k.ActiveID {
			out.Others = append(out.Others, raw)
		}
	}
	return out
}

// useBlobKeys gives the blob store every blob key held, and makes it check
// before each write which key is active: another process may rotate.
func useBlobKeys(blobs BlobStore, ring *keyring.Keyring) error {
	if err := blobs.SetKeys(blobKeys(ring.BlobKeys())); err != nil {
		return err
	}
	blobs.SetKeySource(func(ctx context.Context) (*blob.Keys, error) {
		k, err := ring.CurrentBlobKeys(ctx)
		if err != nil {
			return nil, err
		}
		return blobKeys(k), nil
	})
	return nil
}

// blobWriteGrace is how long after a blob key rotation an image write
// begun under the old key may still land: every write checks the active
// key first, so only one already under way when the rotation committed
// can. The pass that decides whether the old key can be retired starts no
// sooner.
const blobWriteGrace = 10 * time.Second

// rotateBlobKey makes a new blob key the active one, then reseals every
// image with it and retires the old keys.
func rotateBlobKey(ctx context.Context, app *App, batch int, stdout, stderr io.Writer) error {
	id, err := app.Keys.RotateBlob(ctx, blob.NamingKey)
	if err != nil {
		return err
	}
	event := huella.NewAuditEvent(ctx, huella.ActionKeyCreate, "key/"+id, "")
	event.Detail = "purpose=blob rotation"
	if err := app.Store.AppendAudit(ctx, event); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new blob key %s is active; resealing the images with it (their names stay)\n", id)
	return resealAndRetire(ctx, app, batch, stdout, stderr)
}

// resealAndRetire reseals every image not under the active blob key with
// it, then, once no write begun under an older key can still land, checks
// again and retires the blob keys no image uses any more.
func resealAndRetire(ctx context.Context, app *App, batch int, stdout, stderr io.Writer) error {
	keys, err := app.Keys.CurrentBlobKeys(ctx)
	if err != nil {
		return err
	}
	if err := app.Blobs.SetKeys(blobKeys(keys)); err != nil {
		return err
	}
	usage, err := app.Blobs.KeyUsage(ctx)
	if err != nil {
		return err
	}
	active := blob.KeyID(keys.Keys[keys.ActiveID])
	pending := 0
	for id, n := range usage {
		if id != active {
			pending += n
		}
	}
	start := time.Now()
	var total blob.ResealProgress
	pass := func(label string, pending int) error {
		p := newProgress(stderr, label, pending)
		var last blob.ResealProgress
		err := app.Blobs.Reseal(ctx, batch, func(r blob.ResealProgress) {
			p.Add(r.Resealed - last.Resealed)
			last = r
		})
		p.Done()
		total.Examined += last.Examined
		total.Resealed += last.Resealed
		total.Bytes += last.Bytes
		if last.Resealed > 0 {
			event := huella.NewAuditEvent(ctx, huella.ActionKeyReencrypt, "key/"+keys.ActiveID, "")
			event.Detail = fmt.Sprintf("images=%d", last.Resealed)
			if aerr := app.Store.AppendAudit(ctx, event); err == nil {
				err = aerr
			}
		}
		if err != nil {
			return fmt.Errorf("reseal the images (run \"huella keys reencrypt --images\" to resume): %w", err)
		}
		return nil
	}
	if err := pass("keys: images", pending); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "resealed %d images (%.1f MB) in %.1f s: %.0f images/s, %.2f MB/s\n",
		total.Resealed, float64(total.Bytes)/1e6, secs, float64(total.Resealed)/secs, float64(total.Bytes)/1e6/secs)
	if len(keys.Keys) == 1 && usage[""] == 0 {
		return nil
	}
	// A write begun under an older key before the rotation committed may
	// still land: wait it out, then look again.
	list, err := app.Store.ListKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range list {
		if k.ID == keys.ActiveID {
			if wait := time.Until(k.CreatedAt.Add(blobWriteGrace)); wait > 0 {
				fmt.Fprintf(stderr, "keys: waiting %.0f s for image writes begun under the old key\n", wait.Seconds())
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
	before := total.Resealed
	if err := pass("keys: images written during the rotation", 0); err != nil {
		return err
	}
	if n := total.Resealed - before; n > 0 {
		fmt.Fprintf(stdout, "resealed %d images written under the old key during the rotation\n", n)
	}
	if usage, err = app.Blobs.KeyUsage(ctx); err != nil {
		return err
	}
	if n := usage[""]; n > 0 {
		return fmt.Errorf("%d images still name no key: run \"huella keys reencrypt --images\" again", n)
	}
	for id, raw := range keys.Keys {
		if id == keys.ActiveID {
			continue
		}
		if n := usage[blob.KeyID(raw)]; n > 0 {
			fmt.Fprintf(stdout, "blob key %s still seals %d images: run \"huella keys reencrypt --images\" again\n", id, n)
			continue
		}
		if err := app.Keys.Retire(ctx, id); err != nil {
			return err
		}
		if err := app.Store.AppendAudit(ctx, huella.NewAuditEvent(ctx, huella.ActionKeyRetire, "key/"+id, "")); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "blob key %s retired\n", id)
	}
	return app.Blobs.SetKeys(blobKeys(app.Keys.BlobKeys()))
}
