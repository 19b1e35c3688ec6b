package webadmin

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// User is an admin account.
type User struct {
	ID             string     `db:"id" json:"id"`
	OrganisationID *string    `db:"organisation_id" json:"organisation_id"`
	Name           string     `db:"name" json:"name"`
	Email          string     `db:"email" json:"email"`
	Role           Role       `db:"role" json:"role"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
	LastLoginAt    *time.Time `db:"last_login_at" json:"last_login_at"`
	PasswordHash   string     `db:"password_hash" json:"-"`
}

const userColumns = `id, organisation_id, name, email, role, created_at, updated_at, last_login_at, password_hash`

// MinPasswordLength is the shortest password accepted for an account.
const MinPasswordLength = 12

// UserInput is what a create or an update sets; a nil field is left as it is
// (on create, Email, Role and Password are required).
type UserInput struct {
	Name     *string `json:"name"`
	Email    *string `json:"email"`
	Role     *Role   `json:"role"`
	Password *string `json:"password"`
}

func (in UserInput) validate(create bool) error {
	if create {
		switch {
		case in.Email == nil:
			return invalid("email", "is required")
		case in.Role == nil:
			return invalid("role", "is required")
		case in.Password == nil:
			return invalid("password", "is required")
		}
	}
	if in.Name != nil && len(*in.Name) > 200 {
		return invalid("name", "is longer than 200 characters")
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
			return invalid("email", "is not an e-mail address")
		}
	}
	if in.Role != nil && !in.Role.valid() {
		return invalid("role", "must be system, admin or viewer")
	}
	if in.Password != nil && len([]rune(*in.Password)) < MinPasswordLength {
		return invalid("password", "must be at least %d characters", MinPasswordLength)
	}
	return nil
}

func userSummary(in UserInput) map[string]any {
	m := map[string]any{}
	if in.Name != nil {
		m["name"] = *in.Name
	}
	if in.Email != nil {
		m["email"] = strings.TrimSpace(*in.Email)
	}
	if in.Role != nil {
		m["role"] = string(*in.Role)
	}
	if in.Password != nil {
		m["password_changed"] = true
	}
	return m
}

func userConflict(err error) error {
	if _, ok := uniqueViolation(err); ok {
		return &ConflictError{Field: "email", Message: "an account with this e-mail exists"}
	}
	return nil
}

// ListUsers returns the users of organisation orgID by e-mail and how many there are.
func (s *Store) ListUsers(ctx context.Context, orgID string, p Page) ([]User, int, error) {
	p = p.normal()
	out := []User{}
	var total int
	if !validID(orgID) {
		return out, 0, nil
	}
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM users WHERE organisation_id = $1`, orgID); err != nil {
		return nil, 0, notFound("count users", err)
	}
	if err := s.db.SelectContext(ctx, &out, `SELECT `+userColumns+` FROM users WHERE organisation_id = $1
		ORDER BY lower(email) LIMIT $2 OFFSET $3`, orgID, p.Limit, p.Offset); err != nil {
		return nil, 0, notFound("list users", err)
	}
	return out, total, nil
}

// GetUser returns user id of organisation orgID.
func (s *Store) GetUser(ctx context.Context, orgID, id string) (User, error) {
	var u User
	if !validID(orgID) || !validID(id) {
		return u, ErrNotFound
	}
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE organisation_id = $1 AND id = $2`, orgID, id)
	return u, notFoundOrNil("get user", err)
}

// CreateUser creates an account in organisation orgID. The caller checks that
// the principal may give the role (only a system user gives system).
func (s *Store) CreateUser(ctx context.Context, orgID string, in UserInput) (User, error) {
	if err := in.validate(true); err != nil {
		return User{}, err
	}
	if !validID(orgID) {
		return User{}, ErrNotFound
	}
	hash, err := HashPassword(*in.Password, s.params)
	if err != nil {
		return User{}, err
	}
	name := ""
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
	}
	var u User
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, `INSERT INTO users (organisation_id, name, email, password_hash, role, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING `+userColumns,
			orgID, name, strings.TrimSpace(*in.Email), hash, string(*in.Role), s.now())
		if err != nil {
			if c := userConflict(err); c != nil {
				return c
			}
			return notFound("create user", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "user.create",
			ObjectType: "user", ObjectID: u.ID, Summary: userSummary(in)})
	})
	return u, err
}

// UpdateUser changes the fields of in that are set on user id of orgID.
func (s *Store) UpdateUser(ctx context.Context, orgID, id string, in UserInput) (User, error) {
	if err := in.validate(false); err != nil {
		return User{}, err
	}
	if !validID(orgID) || !validID(id) {
		return User{}, ErrNotFound
	}
	var hash *string
	if in.Password != nil {
		h, err := HashPassword(*in.Password, s.params)
		if err != nil {
			return User{}, err
		}
		hash = &h
	}
	var email, role *string
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		email = &e
	}
	if in.Role != nil {
		r := string(*in.Role)
		role = &r
	}
	var u User
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, `UPDATE users SET
				name = COALESCE($3, name), email = COALESCE($4, email), role = COALESCE($5, role),
				password_hash = COALESCE($6, password_hash), updated_at = $7
			WHERE organisation_id = $1 AND id = $2 RETURNING `+userColumns,
			orgID, id, in.Name, email, role, hash, s.now())
		if err != nil {
			if c := userConflict(err); c != nil {
				return c
			}
			return notFound("update user", err)
		}
		if hash != nil {
			// A new password signs the account out everywhere.
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return notFound("update user", err)
			}
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "user.update",
			ObjectType: "user", ObjectID: id, Summary: userSummary(in)})
	})
	return u, err
}

// DeleteUser deletes user id of orgID (and with it the user's sessions).
func (s *Store) DeleteUser(ctx context.Context, orgID, id string) error {
	if !validID(orgID) || !validID(id) {
		return ErrNotFound
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var email string
		if err := tx.GetContext(ctx, &email, `DELETE FROM users WHERE organisation_id = $1 AND id = $2 RETURNING email`, orgID, id); err != nil {
			return notFound("delete user", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "user.delete",
			ObjectType: "user", ObjectID: id, Summary: map[string]any{"email": email}})
	})
}

// UserByEmail returns the user with e-mail address email, compared
// case-insensitively, whatever its organisation.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, strings.TrimSpace(email))
	return u, notFoundOrNil("user by email", err)
}
