package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/minio/minio-go/v7"

	"github.com/huella-abis/huella"
)

// GetAppend reads and decrypts a blob as Get does, appending its plaintext
// to dst: the ciphertext is read into dst's spare capacity and opened in
// place, so that a caller building one message of many blobs (a site's
// upload to the center) neither allocates nor copies each blob again. On
// error dst is returned as it was (its spare capacity overwritten).
func (s *FileStore) GetAppend(ctx context.Context, dst []byte, ref string) ([]byte, error) {
	if !validRef(ref) {
		return dst, huella.Errorf(huella.ENOTFOUND, "blob not found")
	}
	f, err := os.Open(s.path(ref))
	if errors.Is(err, fs.ErrNotExist) {
		return dst, huella.Errorf(huella.ENOTFOUND, "blob not found")
	} else if err != nil {
		return dst, fmt.Errorf("blob: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return dst, fmt.Errorf("blob: %w", err)
	}
	return s.openAppend(dst, ref, f, fi.Size(), s.MaxSize)
}

// GetAppend downloads and decrypts a blob as Get does, appending its
// plaintext to dst (see FileStore.GetAppend).
func (s *S3Store) GetAppend(ctx context.Context, dst []byte, ref string) ([]byte, error) {
	if !validRef(ref) {
		return dst, huella.Errorf(huella.ENOTFOUND, "blob not found")
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.object(ref), minio.GetObjectOptions{})
	if err != nil {
		return dst, s3Error(err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return dst, s3Error(err)
	}
	return s.openAppend(dst, ref, obj, info.Size, s.MaxSize)
}

// openAppend decrypts the blob of size bytes that r reads, stored under
// ref, appending the plaintext to dst. A blob of format 2 is read into
// dst's spare capacity and opened in place (GCM allows exactly
// overlapping buffers); one of format 1, which names no key and may need
// several tries, is read whole and opened as Get does.
func (s *sealer) openAppend(dst []byte, ref string, r io.Reader, size int64, maxSize int) ([]byte, error) {
	if maxSize == 0 {
		maxSize = DefaultMaxSize
	}
	if size > int64(maxSize)+1024 {
		return dst, fmt.Errorf("blob %s: %d bytes stored, over the limit", ref, size)
	}
	var head [headerSize + 12]byte
	if size < int64(len(fileMagic)) {
		return dst, fmt.Errorf("blob %s: %w", ref, errNotBlob)
	}
	if _, err := io.ReadFull(r, head[:len(fileMagic)]); err != nil {
		return dst, fmt.Errorf("blob %s: read: %w", ref, err)
	}
	if !bytes.Equal(head[:len(fileMagic)], fileMagic) {
		rest := make([]byte, size-int64(len(fileMagic)))
		if _, err := io.ReadFull(r, rest); err != nil {
			return dst, fmt.Errorf("blob %s: read: %w", ref, err)
		}
		plain, err := s.open(ref, append(head[:len(fileMagic):len(fileMagic)], rest...))
		if err != nil {
			return dst, err
		}
		return append(dst, plain...), nil
	}
	if _, err := io.ReadFull(r, head[len(fileMagic):]); err != nil {
		return dst, fmt.Errorf("blob %s: %w", ref, errNotBlob)
	}
	id, _ := blobKeyID(head[:])
	k, err := s.key(ref, id)
	if err != nil {
		return dst, err
	}
	nonce := head[headerSize:]
	n := size - int64(len(head))
	if len(nonce) != k.aead.NonceSize() || n < int64(k.aead.Overhead()) {
		return dst, fmt.Errorf("blob %s: %w", ref, errNotBlob)
	}
	start := len(dst)
	buf := slices.Grow(dst, int(n))[:start+int(n)]
	if _, err := io.ReadFull(r, buf[start:]); err != nil {
		return dst, fmt.Errorf("blob %s: read: %w", ref, err)
	}
	out, err := k.appendOpen(buf[:start], ref, nonce, buf[start:])
	if err != nil {
		return dst, err
	}
	return out, nil
}
