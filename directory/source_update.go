package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// UpdateSource replaces a source's configuration with in. The stored bind
// password stays unless in.BindPassword is set (then it is replaced) or
// clearPassword is true; it is never returned.
func (s *Store) UpdateSource(ctx context.Context, orgID, id string, in SourceInput, key []byte, clearPassword bool) (Source, error) {
	if err := in.normalise(); err != nil {
		return Source{}, err
	}
	if in.BindPassword != "" && len(key) != 32 {
		return Source{}, fmt.Errorf("%w: want 32 bytes", ErrSecretKey)
	}
	src := in.Source
	mapping, _ := json.Marshal(src.Mapping)
	var out Source
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var r sourceRow
		err := tx.GetContext(ctx, &r, `
			UPDATE ldap_sources SET name = $3, url = $4, start_tls = $5, ca_cert = $6, bind_dn = $7, base_dns = $8, filter = $9,
				scope = $10, page_size = $11, key_attribute = $12, sync_interval = CASE WHEN $13 > 0 THEN make_interval(secs => $13) END,
				mapping = $14, folder_mode = $15, folder_root = $16, folder_attr = $17, guard_max_deletes = $18,
				guard_max_percent = $19, enabled = $20, updated_at = $21,
				bind_password_enc = CASE WHEN $22 THEN NULL ELSE bind_password_enc END
			WHERE organisation_id = $1 AND id = $2 RETURNING `+sourceColumns,
			orgID, id, src.Name, src.URL, src.StartTLS, src.CACert, src.BindDN, pq.StringArray(src.BaseDNs), src.Filter,
			src.Scope, src.PageSize, src.KeyAttribute, int64(src.Interval/time.Second), mapping, src.Folders.Mode,
			src.Folders.Root, src.Folders.Attr, src.GuardMaxDeletes, src.GuardMaxPercent, src.Enabled, s.now(), clearPassword)
		if err != nil {
			if isNoRows(err) {
				return fmt.Errorf("%w: ldap source", ErrNotFound)
			}
			return conflict(err, "update source")
		}
		if err := r.storePassword(ctx, tx, key, in.BindPassword); err != nil {
			return err
		}
		if out, err = r.source(); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.ldap_source_update",
			ObjectType: "ldap_source", ObjectID: id, Summary: map[string]any{
				"name": src.Name, "url": src.URL, "bind_dn": src.BindDN, "base_dns": src.BaseDNs, "filter": src.Filter,
				"folders": src.Folders.String(), "interval": src.Interval.String(), "enabled": src.Enabled,
				"bind_password": in.BindPassword, "bind_password_cleared": clearPassword}})
	})
	return out, err
}
