package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella/internal/keyfile"
)

// CheckpointOrigin is the first line of every checkpoint: it names the log.
const CheckpointOrigin = "huella audit chain v1"

// Checkpoint is a signed statement of the audit chain's length and the
// hash of its last event, as transparency logs sign their tree heads. The
// chain is anchored by it: a database writer who removes the newest events
// or rewrites one and recomputes every later hash cannot make the chain
// match a checkpoint kept where the database writer cannot write (a file
// outside the data directory, the NATS stream), without the signing key,
// which is not in the database either.
//
// Its text form follows the Go checksum database's signed notes: the body
// (origin, count, head in base64, time) then a blank line and one
// signature line "— NAME BASE64(key ID ‖ Ed25519 signature of the body)",
// with the key ID the first 4 bytes of SHA-256 of the public key.
type Checkpoint struct {
	Count int64     // events in the chain
	Head  []byte    // Hash of event Count; 32 zero bytes when Count is 0
	Time  time.Time // when it was signed
}

// body returns the signed text of the checkpoint.
func (c *Checkpoint) body() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n%s\n", CheckpointOrigin, c.Count,
		base64.StdEncoding.EncodeToString(c.Head), c.Time.UTC().Format(time.RFC3339Nano))
}

// Key signs and checks checkpoints.
type Key struct {
	Name    string // the signer's name in signature lines
	Public  ed25519.PublicKey
	private ed25519.PrivateKey // nil for a key that only verifies
}

// keyName is the name signature lines carry.
const keyName = "huella-audit"

// keyID returns the 4 bytes that name the public key in signatures.
func keyID(pub ed25519.PublicKey) []byte {
	sum := sha256.Sum256(pub)
	return sum[:4]
}

// ErrNoKey is returned by LoadKey when the key file does not exist.
var ErrNoKey = errors.New("audit: no checkpoint signing key")

// LoadKey reads the Ed25519 signing key (its 32-byte seed) from path.
// A key readable by others is an error; a missing one is ErrNoKey.
func LoadKey(path string) (*Key, error) {
	seed, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoKey, path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit: key file %s: %d bytes, want %d", path, len(seed), ed25519.SeedSize)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit: key file %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Key{Name: keyName, Public: priv.Public().(ed25519.PublicKey), private: priv}, nil
}

// LoadOrCreateKey reads the signing key from path, or creates it (mode
// 0600, directory 0700) and writes its public key beside it (path +
// ".pub", base64) for those who verify elsewhere.
func LoadOrCreateKey(path string) (*Key, error) {
	k, err := LoadKey(path)
	if !errors.Is(err, ErrNoKey) {
		return k, err
	}
	if _, err := keyfile.Create(path, ed25519.SeedSize); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	k, err = LoadKey(path)
	if err != nil {
		return nil, err
	}
	pub := base64.StdEncoding.EncodeToString(k.Public) + "\n"
	if err := keyfile.WriteSync(path+".pub", []byte(pub), 0o644, os.O_TRUNC); err != nil {
		return nil, fmt.Errorf("audit: write public key: %w", err)
	}
	return k, nil
}

// Sign returns the checkpoint as a signed note.
func (k *Key) Sign(c *Checkpoint) ([]byte, error) {
	if k.private == nil {
		return nil, errors.New("audit: the key only verifies")
	}
	body := c.body()
	sig := append(keyID(k.Public), ed25519.Sign(k.private, body)...)
	return fmt.Appendf(body, "\n— %s %s\n", k.Name, base64.StdEncoding.EncodeToString(sig)), nil
}

// Open checks a signed note and returns its checkpoint. A note that is
// malformed or carries no valid signature of k is an error.
func (k *Key) Open(note []byte) (*Checkpoint, error) {
	body, sigs, ok := bytes.Cut(note, []byte("\n\n"))
	if !ok {
		return nil, errors.New("audit: checkpoint: no signature")
	}
	body = append(body, '\n')
	verified := false
	for _, line := range strings.Split(strings.TrimRight(string(sigs), "\n"), "\n") {
		name, b64, ok := strings.Cut(strings.TrimPrefix(line, "— "), " ")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if !ok || !strings.HasPrefix(line, "— ") || err != nil || len(sig) != 4+ed25519.SignatureSize {
			return nil, errors.New("audit: checkpoint: malformed signature line")
		}
		if name == k.Name && bytes.Equal(sig[:4], keyID(k.Public)) && ed25519.Verify(k.Public, body, sig[4:]) {
			verified = true
		}
	}
	if !verified {
		return nil, errors.New("audit: checkpoint: no valid signature of this key")
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) != 4 || lines[0] != CheckpointOrigin {
		return nil, errors.New("audit: checkpoint: malformed body")
	}
	c := &Checkpoint{}
	var err error
	if c.Count, err = strconv.ParseInt(lines[1], 10, 64); err != nil || c.Count < 0 {
		return nil, errors.New("audit: checkpoint: malformed count")
	}
	if c.Head, err = base64.StdEncoding.DecodeString(lines[2]); err != nil || len(c.Head) != sha256.Size {
		return nil, errors.New("audit: checkpoint: malformed head")
	}
	if c.Time, err = time.Parse(time.RFC3339Nano, lines[3]); err != nil {
		return nil, errors.New("audit: checkpoint: malformed time")
	}
	return c, nil
}

// AppendCheckpoint signs c and appends it to the checkpoint file at path
// (created 0600), synced before it returns. The note is returned too, for
// other places it is published.
func AppendCheckpoint(path string, k *Key, c *Checkpoint) ([]byte, error) {
	note, err := k.Sign(c)
	if err != nil {
		return nil, err
	}
	if err := keyfile.WriteSync(path, note, 0o600, os.O_APPEND); err != nil {
		return nil, fmt.Errorf("audit: append checkpoint: %w", err)
	}
	return note, nil
}

// ReadCheckpoints reads every checkpoint of the file at path, checking
// each signature with k; the file holds the notes one after another. A
// missing file is no checkpoints; a note that does not verify is an
// error (someone wrote into the file).
func ReadCheckpoints(path string, k *Key) ([]*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	var out []*Checkpoint
	var note bytes.Buffer
	flush := func(line int) error {
		if note.Len() == 0 {
			return nil
		}
		c, err := k.Open(note.Bytes())
		if err != nil {
			return fmt.Errorf("%w (checkpoint ending before line %d of %s)", err, line, path)
		}
		out = append(out, c)
		note.Reset()
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		if sc.Text() == CheckpointOrigin {
			if err := flush(n); err != nil {
				return nil, err
			}
		}
		note.WriteString(sc.Text())
		note.WriteByte('\n')
	}
	if err := flush(n + 1); err != nil {
		return nil, err
	}
	return out, nil
}
