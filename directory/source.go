package directory

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Source is an LDAP or Active Directory server the directory syncs from. The
// bind password is never part of it: it is stored encrypted and only the sync
// decrypts it.
type Source struct {
	ID             string        `json:"id"`
	OrganisationID string        `json:"organisation_id"`
	Name           string        `json:"name"`
	URL            string        `json:"url"` // ldap://host[:port] or ldaps://host[:port]
	StartTLS       bool          `json:"start_tls"`
	CACert         string        `json:"ca_cert,omitempty"` // PEM; empty: system roots
	BindDN         string        `json:"bind_dn"`           // empty: anonymous
	HasPassword    bool          `json:"has_password"`
	BaseDNs        []string      `json:"base_dns"`
	Filter         string        `json:"filter"`
	Scope          string        `json:"scope"` // base, one, sub
	PageSize       int           `json:"page_size"`
	KeyAttribute   string        `json:"key_attribute"` // entryUUID or objectGUID
	Interval       time.Duration `json:"interval"`      // 0: manual runs only
	Mapping        Mapping       `json:"mapping"`
	Folders        FolderMapping `json:"folders"`
	// Deletion guard: 0 disables a limit.
	GuardMaxDeletes int       `json:"guard_max_deletes"`
	GuardMaxPercent int       `json:"guard_max_percent"`
	GuardConfirmed  bool      `json:"guard_confirmed"`
	Enabled         bool      `json:"enabled"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// SourceInput is what an admin enters to create a source. Zero fields take
// the defaults: filter (objectClass=inetOrgPerson), scope sub, page size 500,
// key entryUUID, the inetOrgPerson mapping.
type SourceInput struct {
	Source
	BindPassword string
}

type sourceRow struct {
	ID              string         `db:"id"`
	OrganisationID  string         `db:"organisation_id"`
	Name            string         `db:"name"`
	URL             string         `db:"url"`
	StartTLS        bool           `db:"start_tls"`
	CACert          string         `db:"ca_cert"`
	BindDN          string         `db:"bind_dn"`
	BindPasswordEnc []byte         `db:"bind_password_enc"`
	BaseDNs         pq.StringArray `db:"base_dns"`
	Filter          string         `db:"filter"`
	Scope           string         `db:"scope"`
	PageSize        int            `db:"page_size"`
	KeyAttribute    string         `db:"key_attribute"`
	IntervalSeconds sql.NullInt64  `db:"interval_seconds"`
	Mapping         []byte         `db:"mapping"`
	FolderMode      string         `db:"folder_mode"`
	FolderRoot      string         `db:"folder_root"`
	FolderAttr      string         `db:"folder_attr"`
	GuardMaxDeletes int            `db:"guard_max_deletes"`
	GuardMaxPercent int            `db:"guard_max_percent"`
	GuardConfirmed  bool           `db:"guard_confirmed"`
	Enabled         bool           `db:"enabled"`
	CreatedAt       time.Time      `db:"created_at"`
	UpdatedAt       time.Time      `db:"updated_at"`
}

const sourceColumns = `id, organisation_id, name, url, start_tls, ca_cert, bind_dn, bind_password_enc, base_dns, filter,
	scope, page_size, key_attribute, extract(epoch FROM sync_interval)::bigint AS interval_seconds, mapping,
	folder_mode, folder_root, folder_attr, guard_max_deletes, guard_max_percent, guard_confirmed, enabled, created_at, updated_at`

func (r sourceRow) source() (Source, error) {
	s := Source{ID: r.ID, OrganisationID: r.OrganisationID, Name: r.Name, URL: r.URL, StartTLS: r.StartTLS,
		CACert: r.CACert, BindDN: r.BindDN, HasPassword: len(r.BindPasswordEnc) > 0, BaseDNs: r.BaseDNs,
		Filter: r.Filter, Scope: r.Scope, PageSize: r.PageSize, KeyAttribute: r.KeyAttribute,
		Interval:        time.Duration(r.IntervalSeconds.Int64) * time.Second,
		Folders:         FolderMapping{Mode: r.FolderMode, Root: r.FolderRoot, Attr: r.FolderAttr},
		GuardMaxDeletes: r.GuardMaxDeletes, GuardMaxPercent: r.GuardMaxPercent, GuardConfirmed: r.GuardConfirmed,
		Enabled: r.Enabled, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Mapping, &s.Mapping); err != nil {
		return Source{}, fmt.Errorf("directory: source %s mapping: %w", r.Name, err)
	}
	return s, nil
}

// secretAAD binds a source's encrypted password to its row.
func secretAAD(sourceID string) string { return "ldap_sources.bind_password:" + sourceID }

// normalise fills defaults and validates everything an admin entered.
func (in *SourceInput) normalise() error {
	s := &in.Source
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" {
		return invalid("a source needs a name")
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return invalid("URL %q: want ldap://host[:port] or ldaps://host[:port]", s.URL)
	}
	if s.StartTLS && u.Scheme == "ldaps" {
		return invalid("StartTLS is for ldap:// URLs; ldaps:// is TLS already")
	}
	if s.CACert != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(s.CACert)) {
		return invalid("the CA certificate is not PEM")
	}
	if s.BindDN != "" {
		if _, err := ldap.ParseDN(s.BindDN); err != nil {
			return invalid("bind DN %q: %v", s.BindDN, err)
		}
	}
	if s.BindDN == "" && in.BindPassword != "" {
		return invalid("a bind password needs a bind DN")
	}
	if len(s.BaseDNs) == 0 {
		return invalid("a source needs at least one base DN")
	}
	for _, b := range s.BaseDNs {
		if _, err := ldap.ParseDN(b); err != nil || strings.TrimSpace(b) == "" {
			return invalid("base DN %q is not a DN", b)
		}
	}
	if s.Filter == "" {
		s.Filter = "(objectClass=inetOrgPerson)"
	}
	if err := ValidateFilter(s.Filter); err != nil {
		return err
	}
	switch s.Scope {
	case "":
		s.Scope = "sub"
	case "base", "one", "sub":
	default:
		return invalid("scope %q: want base, one or sub", s.Scope)
	}
	if s.PageSize == 0 {
		s.PageSize = 500
	}
	if s.PageSize < 1 || s.PageSize > 100000 {
		return invalid("page size %d: want 1 to 100000", s.PageSize)
	}
	if s.KeyAttribute == "" {
		s.KeyAttribute = "entryUUID"
	}
	if !strings.EqualFold(s.KeyAttribute, "entryUUID") && !strings.EqualFold(s.KeyAttribute, "objectGUID") && !strings.EqualFold(s.KeyAttribute, "nsUniqueId") && !strings.EqualFold(s.KeyAttribute, "ipaUniqueID") {
		return invalid("key attribute %q: want entryUUID, objectGUID, nsUniqueId or ipaUniqueID (never the DN)", s.KeyAttribute)
	}
	if s.Interval != 0 && s.Interval < time.Minute {
		return invalid("interval %s: at least 1m, or 0 for manual runs", s.Interval)
	}
	s.Mapping = s.Mapping.WithDefaults(DefaultMapping())
	if _, err := s.Mapping.Compile(); err != nil {
		return err
	}
	if s.Folders.Mode == "" {
		s.Folders.Mode = "none"
	}
	if err := s.Folders.Validate(); err != nil {
		return err
	}
	if s.GuardMaxDeletes < 0 || s.GuardMaxPercent < 0 || s.GuardMaxPercent > 100 {
		return invalid("guard: deletes ≥ 0 and percent 0–100")
	}
	return nil
}

// CreateSource adds an LDAP source. The bind password is encrypted with key
// (32 bytes, the configuration's secret_key) and never returned.
func (s *Store) CreateSource(ctx context.Context, orgID string, in SourceInput, key []byte) (Source, error) {
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
		now := s.now()
		err := tx.GetContext(ctx, &r, `
			INSERT INTO ldap_sources (organisation_id, name, url, start_tls, ca_cert, bind_dn, base_dns, filter, scope, page_size,
				key_attribute, sync_interval, mapping, folder_mode, folder_root, folder_attr, guard_max_deletes, guard_max_percent,
				enabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $12 > 0 THEN make_interval(secs => $12) END, $13, $14, $15, $16, $17, $18, true, $19, $19)
			RETURNING `+sourceColumns,
			orgID, src.Name, src.URL, src.StartTLS, src.CACert, src.BindDN, pq.StringArray(src.BaseDNs), src.Filter, src.Scope, src.PageSize,
			src.KeyAttribute, int64(src.Interval/time.Second), mapping, src.Folders.Mode, src.Folders.Root, src.Folders.Attr,
			src.GuardMaxDeletes, src.GuardMaxPercent, now)
		if err != nil {
			return conflict(err, "create source")
		}
		if err := r.storePassword(ctx, tx, key, in.BindPassword); err != nil {
			return err
		}
		if out, err = r.source(); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.ldap_source_create",
			ObjectType: "ldap_source", ObjectID: r.ID, Summary: map[string]any{
				"name": src.Name, "url": src.URL, "bind_dn": src.BindDN, "base_dns": src.BaseDNs, "filter": src.Filter,
				"folders": src.Folders.String(), "interval": src.Interval.String(), "bind_password": in.BindPassword}})
	})
	return out, err
}

// storePassword seals a new bind password (none given: nothing changes) and
// stores it in r's row.
func (r *sourceRow) storePassword(ctx context.Context, tx *sqlx.Tx, key []byte, password string) error {
	if password == "" {
		return nil
	}
	sealed, err := sealSecret(key, password, secretAAD(r.ID))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ldap_sources SET bind_password_enc = $2 WHERE id = $1`, r.ID, sealed); err != nil {
		return fmt.Errorf("directory: store bind password: %w", err)
	}
	r.BindPasswordEnc = sealed
	return nil
}

// Sources returns the organisation's sources by name.
func (s *Store) Sources(ctx context.Context, orgID string) ([]Source, error) {
	var rows []sourceRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+sourceColumns+` FROM ldap_sources WHERE organisation_id = $1 ORDER BY lower(name)`, orgID); err != nil {
		return nil, fmt.Errorf("directory: sources: %w", err)
	}
	out := make([]Source, 0, len(rows))
	for _, r := range rows {
		src, err := r.source()
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, nil
}

// Source returns one source by ID.
func (s *Store) Source(ctx context.Context, orgID, id string) (Source, error) {
	r, err := s.sourceRow(ctx, s.db, orgID, "id = $2", id)
	if err != nil {
		return Source{}, err
	}
	return r.source()
}

// SourceByName returns one source by name (case-insensitive).
func (s *Store) SourceByName(ctx context.Context, orgID, name string) (Source, error) {
	r, err := s.sourceRow(ctx, s.db, orgID, "lower(name) = lower($2)", name)
	if err != nil {
		return Source{}, err
	}
	return r.source()
}

func (s *Store) sourceRow(ctx context.Context, q sqlx.QueryerContext, orgID, cond string, arg any) (sourceRow, error) {
	var r sourceRow
	if err := sqlx.GetContext(ctx, q, &r, `SELECT `+sourceColumns+` FROM ldap_sources WHERE organisation_id = $1 AND `+cond, orgID, arg); err != nil {
		return sourceRow{}, notFound(err, "ldap source")
	}
	return r, nil
}

// DeleteSource removes a source with the entries and folders it synced.
func (s *Store) DeleteSource(ctx context.Context, orgID, id string) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		var name string
		if err := tx.GetContext(ctx, &name, `DELETE FROM ldap_sources WHERE organisation_id = $1 AND id = $2 RETURNING name`, orgID, id); err != nil {
			return notFound(err, "ldap source")
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.ldap_source_delete",
			ObjectType: "ldap_source", ObjectID: id, Summary: map[string]any{"name": name}})
	})
}

// ConfirmGuard lets the next run of a source pass its deletion guard once.
func (s *Store) ConfirmGuard(ctx context.Context, orgID, id string) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ldap_sources SET guard_confirmed = true, updated_at = $3 WHERE organisation_id = $1 AND id = $2`, orgID, id, s.now())
		if err != nil {
			return notFound(err, "ldap source")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: ldap source", ErrNotFound)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.ldap_source_confirm_guard",
			ObjectType: "ldap_source", ObjectID: id})
	})
}
