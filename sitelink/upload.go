package sitelink

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/huella-abis/huella"
)

// Upload is one encounter a site sends to the center: the encounter as the
// site stored it (its ID is the site's, the center's idempotency key) and
// the images of its samples, byte for byte as they were enrolled.
type Upload struct {
	Encounter *huella.Encounter
	Images    [][]byte // Images[i] is the image of Encounter.Samples[i]

	// wire, when set, is the upload encoded already, as AppendUpload
	// writes it, with Images aliasing it: the relay reads the images
	// straight into the message (appendUploadBlobs), and Leaf.Send
	// sends it as it is.
	wire []byte
}

// Limits of an upload on the wire.
const (
	uploadMagic     = "HSU1"
	MaxUploadImages = 64
	MaxUploadHeader = 1 << 20
)

// ErrBadUpload is the error of an upload that does not decode.
var ErrBadUpload = errors.New("sitelink: bad upload")

// EncodeUpload writes the upload as "HSU1", the length and JSON of the
// encounter, then each image as its length and bytes: the images travel
// as they are (no base64), so that an encounter costs its images' size
// and a few hundred bytes.
func EncodeUpload(u *Upload) ([]byte, error) { return AppendUpload(nil, u) }

// AppendUpload appends the upload, as EncodeUpload writes it, to dst.
func AppendUpload(dst []byte, u *Upload) ([]byte, error) {
	if u.Encounter == nil || len(u.Images) != len(u.Encounter.Samples) || len(u.Images) > MaxUploadImages {
		return nil, fmt.Errorf("%w: every sample needs one image (at most %d)", ErrBadUpload, MaxUploadImages)
	}
	size := 0
	for _, img := range u.Images {
		size += 4 + len(img)
	}
	buf, err := appendUploadHeader(dst, u.Encounter, size)
	if err != nil {
		return nil, err
	}
	for _, img := range u.Images {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(img)))
		buf = append(buf, img...)
	}
	return buf, nil
}

// appendUploadHeader appends the magic and the encounter record of an
// upload to dst, with room for size bytes of images after them.
func appendUploadHeader(dst []byte, e *huella.Encounter, size int) ([]byte, error) {
	header, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("sitelink: encode encounter: %w", err)
	}
	if len(header) > MaxUploadHeader {
		return nil, fmt.Errorf("%w: encounter record larger than %d bytes", ErrBadUpload, MaxUploadHeader)
	}
	buf := slices.Grow(dst, len(uploadMagic)+4+len(header)+size)
	buf = append(buf, uploadMagic...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(header)))
	return append(buf, header...), nil
}

// blobAppender is a blob store that decrypts a blob into the caller's
// buffer (blob.FileStore and blob.S3Store).
type blobAppender interface {
	GetAppend(ctx context.Context, dst []byte, ref string) ([]byte, error)
}

// appendUploadBlobs appends to dst the upload of e with the images its
// samples name, read from blobs straight into the message: no image is
// allocated or copied on its own. The upload's Images alias the result.
func appendUploadBlobs(ctx context.Context, dst []byte, e *huella.Encounter, blobs blobAppender) (*Upload, error) {
	if len(e.Samples) > MaxUploadImages {
		return nil, fmt.Errorf("%w: more than %d samples", ErrBadUpload, MaxUploadImages)
	}
	buf, err := appendUploadHeader(dst, e, 0)
	if err != nil {
		return nil, err
	}
	at := make([]int, len(e.Samples)) // where each image starts
	for i, smp := range e.Samples {
		n := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		if buf, err = blobs.GetAppend(ctx, buf, smp.ImageRef); err != nil {
			return nil, fmt.Errorf("image of samples[%d]: %w", i, err)
		}
		binary.BigEndian.PutUint32(buf[n:], uint32(len(buf)-n-4))
		at[i] = n + 4
	}
	u := &Upload{Encounter: e, Images: make([][]byte, len(e.Samples)), wire: buf}
	for i := range at {
		end := len(buf)
		if i+1 < len(at) {
			end = at[i+1] - 4
		}
		u.Images[i] = buf[at[i]:end:end]
	}
	return u, nil
}

// DecodeUpload reads an upload EncodeUpload wrote. Anything else is
// ErrBadUpload; the images alias data.
func DecodeUpload(data []byte) (*Upload, error) {
	if !bytes.HasPrefix(data, []byte(uploadMagic)) {
		return nil, fmt.Errorf("%w: not an upload", ErrBadUpload)
	}
	rest := data[len(uploadMagic):]
	next := func(max int) ([]byte, error) {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: truncated", ErrBadUpload)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) || int64(n) > int64(max) {
			return nil, fmt.Errorf("%w: part of %d bytes out of range", ErrBadUpload, n)
		}
		part := rest[4 : 4+n : 4+n]
		rest = rest[4+n:]
		return part, nil
	}
	header, err := next(MaxUploadHeader)
	if err != nil {
		return nil, err
	}
	u := &Upload{Encounter: new(huella.Encounter)}
	if err := json.Unmarshal(header, u.Encounter); err != nil {
		return nil, fmt.Errorf("%w: encounter record: %v", ErrBadUpload, err)
	}
	if len(u.Encounter.Samples) > MaxUploadImages {
		return nil, fmt.Errorf("%w: more than %d samples", ErrBadUpload, MaxUploadImages)
	}
	for i, smp := range u.Encounter.Samples {
		if smp == nil {
			return nil, fmt.Errorf("%w: samples[%d] is null", ErrBadUpload, i)
		}
		img, err := next(len(data))
		if err != nil {
			return nil, err
		}
		u.Images = append(u.Images, img)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last image", ErrBadUpload, len(rest))
	}
	return u, nil
}
