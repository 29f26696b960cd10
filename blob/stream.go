package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/huella-abis/huella"
)

// A sealed stream is an object too large to hold in memory (a gallery
// snapshot), stored under a name of the caller's rather than a content
// reference: streamMagic, the 8-byte ID of the sealing key, then chunks of
// at most streamChunk plaintext bytes, each a flag byte (1 on the last
// chunk, which may be empty), the 4-byte big-endian length of the sealed
// chunk, a 12-byte nonce and the AES-256-GCM ciphertext and tag. The
// additional data binds each chunk to the stream's name, its index and its
// flag, so chunks cannot be reordered, moved to another stream or cut off
// (a stream without its last chunk does not open).
var streamMagic = []byte("HBS1")

// streamChunk is the plaintext size of a sealed stream's chunks.
const streamChunk = 1 << 20

// streamPartSize is the part size of a stream's multipart upload: the
// memory one upload holds.
const streamPartSize = 16 << 20

// streamAAD is the additional data of chunk i of the stream name.
func streamAAD(name string, i uint64, last bool) []byte {
	b := make([]byte, 0, len("huella stream v1")+1+len(name)+1+8+1)
	b = append(b, "huella stream v1\x00"...)
	b = append(b, name...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, i)
	if last {
		return append(b, 1)
	}
	return append(b, 0)
}

// validStreamName accepts the names a caller may store a stream under:
// slash-separated words of letters, digits, '.', '_' and '-', none of
// them "." or "..", and never the shape of a blob's object name (so Sweep
// and Reseal leave streams alone).
func validStreamName(name string) bool {
	if name == "" || len(name) > 512 {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return !validRef(name[strings.LastIndexByte(name, '/')+1:])
}

// sealingReader reads a stream's sealed bytes from its plaintext.
type sealingReader struct {
	src   io.Reader
	key   *blobKey
	name  string
	i     uint64
	out   []byte // sealed bytes not read yet
	plain []byte
	done  bool // the last chunk is in out
	err   error
}

func (r *sealingReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		n, err := io.ReadFull(r.src, r.plain)
		last := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !last {
			r.err = err
			return 0, err
		}
		r.out, r.err = r.key.sealChunk(r.out[:0], r.name, r.i, last, r.plain[:n])
		r.i++
		r.done = last
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// sealChunk appends chunk i of the stream name, sealed, to out.
func (k *blobKey) sealChunk(out []byte, name string, i uint64, last bool, plain []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	flag := byte(0)
	if last {
		flag = 1
	}
	out = append(out, flag)
	out = binary.BigEndian.AppendUint32(out, uint32(ns+len(plain)+k.aead.Overhead()))
	start := len(out)
	out = append(out, make([]byte, ns)...)
	if _, err := rand.Read(out[start:]); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out[start:start+ns], plain, streamAAD(name, i, last)), nil
}

// openingReader reads a sealed stream's plaintext.
type openingReader struct {
	src  io.Reader
	key  *blobKey
	name string
	i    uint64
	buf  []byte
	out  []byte
	done bool
}

func (r *openingReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.done {
			var one [1]byte
			if n, _ := r.src.Read(one[:]); n > 0 {
				return 0, fmt.Errorf("blob: stream %s: data after its last chunk", r.name)
			}
			return 0, io.EOF
		}
		var head [5]byte
		if _, err := io.ReadFull(r.src, head[:]); err != nil {
			return 0, fmt.Errorf("blob: stream %s truncated at chunk %d", r.name, r.i)
		}
		last := head[0] == 1
		size := int(binary.BigEndian.Uint32(head[1:]))
		ns := r.key.aead.NonceSize()
		if head[0] > 1 || size < ns+r.key.aead.Overhead() || size > ns+streamChunk+r.key.aead.Overhead() {
			return 0, fmt.Errorf("blob: stream %s: bad chunk %d", r.name, r.i)
		}
		r.buf = append(r.buf[:0], make([]byte, size)...)
		if _, err := io.ReadFull(r.src, r.buf); err != nil {
			return 0, fmt.Errorf("blob: stream %s truncated at chunk %d", r.name, r.i)
		}
		plain, err := r.key.aead.Open(r.out[:0], r.buf[:ns], r.buf[ns:], streamAAD(r.name, r.i, last))
		if err != nil {
			return 0, fmt.Errorf("blob: stream %s: chunk %d failed authentication (tampered, or another key)", r.name, r.i)
		}
		r.out, r.done = plain, last
		r.i++
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// PutStream stores what r holds, sealed with the active key, as the
// stream name (PREFIX/NAME), replacing any stream of that name once the
// upload completed: until then readers see the previous one. It returns
// the bytes uploaded. A name that is not a valid stream name is EINVALID.
func (s *S3Store) PutStream(ctx context.Context, name string, r io.Reader) (int64, error) {
	if !validStreamName(name) {
		return 0, huella.Errorf(huella.EINVALID, "not a stream name: %q", name)
	}
	if err := s.refresh(ctx); err != nil {
		return 0, err
	}
	s.mu.RLock()
	k := s.active
	s.mu.RUnlock()
	head := append(append([]byte(nil), streamMagic...), k.id...)
	body := io.MultiReader(bytes.NewReader(head),
		&sealingReader{src: r, key: k, name: name, plain: make([]byte, streamChunk)})
	info, err := s.client.PutObject(ctx, s.bucket, s.prefix+name, body, -1,
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: streamPartSize})
	if err != nil {
		return 0, fmt.Errorf("blob: S3 put stream %s: %w", name, err)
	}
	return info.Size, nil
}

// GetStream opens the stream name for reading; the reader returns an
// error, never unauthenticated bytes, when a chunk was tampered with or
// the stream is cut short. A missing stream is ENOTFOUND.
func (s *S3Store) GetStream(ctx context.Context, name string) (io.ReadCloser, error) {
	if !validStreamName(name) {
		return nil, huella.Errorf(huella.ENOTFOUND, "stream not found")
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s3StreamError(err)
	}
	head := make([]byte, len(streamMagic)+keyIDSize)
	if _, err := io.ReadFull(obj, head); err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, huella.Errorf(huella.ENOTFOUND, "stream not found")
		}
		return nil, fmt.Errorf("blob: stream %s: %w", name, err)
	}
	if !bytes.Equal(head[:len(streamMagic)], streamMagic) {
		obj.Close()
		return nil, fmt.Errorf("blob: %s is not a sealed stream", name)
	}
	id := hex.EncodeToString(head[len(streamMagic):])
	s.mu.RLock()
	k := s.keys[id]
	s.mu.RUnlock()
	if k == nil {
		obj.Close()
		return nil, fmt.Errorf("blob: stream %s: sealed with key %s, which this store does not hold", name, id)
	}
	return &readCloser{Reader: &openingReader{src: obj, key: k, name: name}, Closer: obj}, nil
}

// DeleteStream removes the stream name; a missing stream is not an error.
func (s *S3Store) DeleteStream(ctx context.Context, name string) error {
	if !validStreamName(name) {
		return nil
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+name, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("blob: S3 delete stream %s: %w", name, err)
	}
	return nil
}

func s3StreamError(err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return huella.Errorf(huella.ENOTFOUND, "stream not found")
	}
	return fmt.Errorf("blob: S3 get stream: %w", err)
}

type readCloser struct {
	io.Reader
	io.Closer
}
