package sipcall

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// maxBodyParts bounds the parts of a multipart body we look at.
const maxBodyParts = 8

// sessionBody returns the SDP in a message body of type contentType: the
// body itself for application/sdp, the application/sdp part of a
// multipart body (RFC 5621; Lync sends multipart/alternative). An empty
// body returns nil and no error: an INVITE without an offer. Any other
// type is a *StatusError 415 wrapping ErrUnsupportedBody; a multipart body
// that cannot be read is a 400.
func sessionBody(contentType string, body []byte) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if contentType == "" {
		// RFC 3261 §20.15: a body needs its type; an INVITE body without
		// one is, in practice, SDP.
		return body, nil
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, statusError(400, "Bad Request", fmt.Errorf("%w: content type %q: %v", ErrBadSDP, contentType, err))
	}
	switch {
	case mediaType == "application/sdp":
		return body, nil
	case strings.HasPrefix(mediaType, "multipart/"):
		return sdpPart(body, params["boundary"])
	}
	return nil, statusError(415, "Unsupported Media Type", fmt.Errorf("%w: %s", ErrUnsupportedBody, mediaType))
}

// sdpPart returns the first application/sdp part of a multipart body.
func sdpPart(body []byte, boundary string) ([]byte, error) {
	if boundary == "" {
		return nil, statusError(400, "Bad Request", fmt.Errorf("%w: multipart body without boundary", ErrBadSDP))
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for range maxBodyParts {
		p, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, statusError(400, "Bad Request", fmt.Errorf("%w: multipart body: %v", ErrBadSDP, err))
		}
		mt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil || mt != "application/sdp" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, int64(len(body))))
		if err != nil {
			return nil, statusError(400, "Bad Request", fmt.Errorf("%w: multipart body: %v", ErrBadSDP, err))
		}
		return data, nil
	}
	return nil, statusError(415, "Unsupported Media Type", fmt.Errorf("%w: multipart body without application/sdp", ErrUnsupportedBody))
}
