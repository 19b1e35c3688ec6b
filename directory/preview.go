package directory

import (
	"context"
	"errors"
	"fmt"
)

// PreviewEntry is one mapped entry as a sync would store it.
type PreviewEntry struct {
	DN        string    `json:"dn"`
	Key       string    `json:"key"`
	Kind      Kind      `json:"kind"`
	Name      string    `json:"name"`
	Title     string    `json:"title,omitempty"`
	Folder    string    `json:"folder"`
	Addresses []Address `json:"addresses"`
}

var errEnough = errors.New("enough")

// Preview tests a source's connection: it binds, searches and maps up to n
// entries, and returns them with the warnings mapping them gave. It changes
// nothing and records no run.
func (y *Syncer) Preview(ctx context.Context, orgID, sourceID string, n int) ([]PreviewEntry, []string, error) {
	src, err := y.store.Source(ctx, orgID, sourceID)
	if err != nil {
		return nil, nil, err
	}
	password := ""
	if src.HasPassword {
		var sealed []byte
		if err := y.store.db.GetContext(ctx, &sealed, `SELECT bind_password_enc FROM ldap_sources WHERE id = $1`, src.ID); err != nil {
			return nil, nil, fmt.Errorf("directory: bind password: %w", err)
		}
		if password, err = openSecret(y.key, sealed, secretAAD(src.ID)); err != nil {
			return nil, nil, err
		}
	}
	var w warnings
	mp, err := newMapper(src, &w)
	if err != nil {
		return nil, nil, err
	}
	if n <= 0 {
		n = 10
	}
	src.PageSize = min(src.PageSize, n)
	reader := &ldapReader{src: src, password: password, attrs: mp.attributes(), timeout: y.timeout}
	out := []PreviewEntry{}
	err = reader.read(ctx, func(rec *ldapRecord) error {
		if len(out) >= n {
			return errEnough // parallel searches may still deliver a page
		}
		me, ok := mp.mapRecord(rec)
		if ok {
			out = append(out, PreviewEntry{DN: me.dn, Key: me.key, Kind: me.kind, Name: me.name, Title: me.title, Folder: me.folder, Addresses: me.addrs})
		}
		if len(out) >= n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, w.list(), err
	}
	return out, w.list(), nil
}
