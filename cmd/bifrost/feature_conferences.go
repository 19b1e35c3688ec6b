package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/cdr"
	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/webadmin"
)

// liveBridge is what the live conferences feature needs of the bridge;
// *bridge.Bridge has it. webadmin declares nothing of the bridge: this
// feature adapts one to the other.
type liveBridge interface {
	Conferences(ctx context.Context) []bridge.ConferenceView
	Conference(ctx context.Context, id bridge.ConferenceID) (bridge.ConferenceView, error)
	Mute(ctx context.Context, id bridge.ConferenceID, pid bridge.ParticipantID, muted bool) error
	Kick(ctx context.Context, id bridge.ConferenceID, pid bridge.ParticipantID) error
	Lock(ctx context.Context, id bridge.ConferenceID, locked bool) error
}

//go:embed templates/conferences.html
var conferenceTemplateFS embed.FS

var conferenceTemplates = template.Must(template.ParseFS(conferenceTemplateFS, "templates/conferences.html"))

// conferencesFeature is the live conferences' part of the web admin: the REST
// API (list, one conference with its participants, mute, kick, lock) and the
// "Live conferences" pages, always of the principal's organisation: another
// organisation's conference is 404, as if it did not exist. Every change is
// recorded in the audit log (db) before it is made, in a transaction that
// commits only if the bridge made it.
func conferencesFeature(db *sqlx.DB, br liveBridge, log *slog.Logger) webadmin.Feature {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &confAdmin{db: db, br: br, log: log}
	h := func(f http.HandlerFunc) http.Handler { return f }
	return webadmin.Feature{
		Name: "conferences",
		Routes: []webadmin.Route{
			{Pattern: "GET /api/v1/conferences", Access: webadmin.AccessRead, Handler: h(c.apiList)},
			{Pattern: "GET /api/v1/conferences/{id}", Access: webadmin.AccessRead, Handler: h(c.apiGet)},
			{Pattern: "POST /api/v1/conferences/{id}/participants/{pid}/mute", Access: webadmin.AccessWrite, Handler: h(c.apiMute)},
			{Pattern: "DELETE /api/v1/conferences/{id}/participants/{pid}", Access: webadmin.AccessWrite, Handler: h(c.apiKick)},
			{Pattern: "POST /api/v1/conferences/{id}/lock", Access: webadmin.AccessWrite, Handler: h(c.apiLock)},

			{Pattern: "GET /admin/conferences", Access: webadmin.AccessRead, Handler: h(c.pageList)},
			{Pattern: "GET /admin/conferences/{id}", Access: webadmin.AccessRead, Handler: h(c.pageGet)},
			{Pattern: "POST /admin/conferences/{id}/participants/{pid}/mute", Access: webadmin.AccessWrite, Handler: h(c.pageMute)},
			{Pattern: "POST /admin/conferences/{id}/participants/{pid}/kick", Access: webadmin.AccessWrite, Handler: h(c.pageKick)},
			{Pattern: "POST /admin/conferences/{id}/lock", Access: webadmin.AccessWrite, Handler: h(c.pageLock)},
		},
		Nav:          []webadmin.NavItem{{Title: "Live conferences", Path: "/admin/conferences", Access: webadmin.AccessRead}},
		OpenAPIPaths: []byte(conferencesOpenAPI),
	}
}

type confAdmin struct {
	db  *sqlx.DB
	br  liveBridge
	log *slog.Logger
}

// conferenceJSON is a live conference as the API shows it. Participants are
// personal data of the room's organisation.
type conferenceJSON struct {
	ID               string            `json:"id"`
	RoomID           string            `json:"room_id"`
	RoomName         string            `json:"room_name"`
	StartedAt        time.Time         `json:"started_at"`
	DurationSeconds  int64             `json:"duration_seconds"`
	Locked           bool              `json:"locked"`
	ActiveSpeaker    string            `json:"active_speaker,omitempty"`
	ParticipantCount int               `json:"participant_count"`
	Participants     []participantJSON `json:"participants,omitempty"`
}

type participantJSON struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	URI             string    `json:"uri"`
	Protocol        string    `json:"protocol"`
	Transport       string    `json:"transport"`
	Codec           string    `json:"codec"`
	VideoCodec      string    `json:"video_codec,omitempty"`
	VideoWidth      int       `json:"video_width,omitempty"`
	VideoHeight     int       `json:"video_height,omitempty"`
	Encryption      string    `json:"encryption"`
	Role            string    `json:"role"`
	State           string    `json:"state"`
	Muted           bool      `json:"muted"`
	Since           time.Time `json:"since"`
	DurationSeconds int64     `json:"duration_seconds"`
}

func toConferenceJSON(v bridge.ConferenceView, withParticipants bool) conferenceJSON {
	c := conferenceJSON{
		ID: string(v.ID), RoomID: string(v.RoomID), RoomName: v.RoomName, StartedAt: v.StartedAt.UTC(),
		DurationSeconds: int64(v.Duration / time.Second), Locked: v.Locked, ActiveSpeaker: string(v.ActiveSpeaker),
		ParticipantCount: len(v.Participants),
	}
	if withParticipants {
		c.Participants = make([]participantJSON, 0, len(v.Participants))
		for _, p := range v.Participants {
			c.Participants = append(c.Participants, toParticipantJSON(p))
		}
	}
	return c
}

func toParticipantJSON(p bridge.ParticipantView) participantJSON {
	enc := string(p.Encryption)
	if enc == "" {
		enc = "none"
	}
	return participantJSON{
		ID: string(p.ID), Name: p.DisplayName, URI: p.RemoteURI, Protocol: string(p.Protocol), Transport: p.Transport,
		Codec: p.AudioCodec, VideoCodec: p.VideoCodec, VideoWidth: p.VideoWidth, VideoHeight: p.VideoHeight, Encryption: enc, Role: string(p.Role), State: string(p.State),
		Muted: p.Muted, Since: p.Since.UTC(), DurationSeconds: int64(p.Duration / time.Second),
	}
}

// errConferenceNotFound and errParticipantNotFound are answered 404.
var (
	errConferenceNotFound  = errors.New("no such live conference in this organisation")
	errParticipantNotFound = errors.New("no such participant in this conference")
)

// own returns the live conference of r's path if it belongs to the principal's
// organisation; otherwise errConferenceNotFound, whether it exists or not.
func (c *confAdmin) own(r *http.Request) (bridge.ConferenceView, error) {
	p, _ := webadmin.PrincipalFrom(r.Context())
	v, err := c.br.Conference(r.Context(), bridge.ConferenceID(r.PathValue("id")))
	if err != nil || p.OrganisationID == "" || string(v.OrganisationID) != p.OrganisationID {
		return bridge.ConferenceView{}, errConferenceNotFound
	}
	return v, nil
}

// ownParticipant returns the conference and the participant of r's path.
func (c *confAdmin) ownParticipant(r *http.Request) (bridge.ConferenceView, bridge.ParticipantView, error) {
	v, err := c.own(r)
	if err != nil {
		return v, bridge.ParticipantView{}, err
	}
	for _, p := range v.Participants {
		if string(p.ID) == r.PathValue("pid") {
			return v, p, nil
		}
	}
	return v, bridge.ParticipantView{}, errParticipantNotFound
}

// list returns the live conferences of the principal's organisation.
func (c *confAdmin) list(r *http.Request) []bridge.ConferenceView {
	p, _ := webadmin.PrincipalFrom(r.Context())
	out := []bridge.ConferenceView{}
	for _, v := range c.br.Conferences(r.Context()) {
		if p.OrganisationID != "" && string(v.OrganisationID) == p.OrganisationID {
			out = append(out, v)
		}
	}
	return out
}

// audited records e with the actor of ctx, then does change; the entry
// commits only if change succeeds, so the log holds what was done. Entries
// name a participant by its ID (the call record's leg ID), not by its name:
// the audit log outlives the call records' anonymisation.
func (c *confAdmin) audited(ctx context.Context, e audit.Entry, change func() error) error {
	tx, err := c.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := audit.Record(ctx, tx, e); err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		// The bridge has made the change; say so in the log at least.
		c.log.ErrorContext(ctx, "audit entry lost after a live conference change", "action", e.Action, "object", e.ObjectID, "err", err)
		return err
	}
	return nil
}

func (c *confAdmin) mute(r *http.Request, v bridge.ConferenceView, p bridge.ParticipantView, muted bool) error {
	return c.audited(r.Context(), audit.Entry{OrganisationID: string(v.OrganisationID), Action: "conference.mute",
		ObjectType: "participant", ObjectID: string(p.ID),
		Summary: map[string]any{"conference_id": string(v.ID), "room": v.RoomName, "muted": muted}},
		func() error { return c.br.Mute(r.Context(), v.ID, p.ID, muted) })
}

func (c *confAdmin) kick(r *http.Request, v bridge.ConferenceView, p bridge.ParticipantView) error {
	return c.audited(r.Context(), audit.Entry{OrganisationID: string(v.OrganisationID), Action: "conference.kick",
		ObjectType: "participant", ObjectID: string(p.ID),
		Summary: map[string]any{"conference_id": string(v.ID), "room": v.RoomName}},
		func() error { return c.br.Kick(r.Context(), v.ID, p.ID) })
}

func (c *confAdmin) lock(r *http.Request, v bridge.ConferenceView, locked bool) error {
	return c.audited(r.Context(), audit.Entry{OrganisationID: string(v.OrganisationID), Action: "conference.lock",
		ObjectType: "conference", ObjectID: string(v.ID),
		Summary: map[string]any{"room": v.RoomName, "locked": locked}},
		func() error { return c.br.Lock(r.Context(), v.ID, locked) })
}

// notFound maps the bridge's "gone meanwhile" errors to ours.
func notFound(err error) error {
	switch {
	case errors.Is(err, bridge.ErrConferenceNotFound):
		return errConferenceNotFound
	case errors.Is(err, bridge.ErrParticipantNotFound):
		return errParticipantNotFound
	}
	return err
}

func (c *confAdmin) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var fe fieldError
	switch err = notFound(err); {
	case errors.As(err, &fe):
		writeAPIErr(w, http.StatusBadRequest, "invalid", fe.field, fe.Error())
	case errors.Is(err, errConferenceNotFound), errors.Is(err, errParticipantNotFound):
		writeAPIErr(w, http.StatusNotFound, "not_found", "", err.Error())
	default:
		c.log.ErrorContext(r.Context(), "live conference API failed", "path", r.URL.Path, "err", err)
		writeAPIErr(w, http.StatusInternalServerError, "internal", "", "internal error")
	}
}

// readBool decodes a body {"<name>": bool} strictly; the field is required.
func readBool(w http.ResponseWriter, r *http.Request, name string) (bool, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	var in map[string]*bool
	if err := dec.Decode(&in); err != nil {
		return false, fieldError{"body", "must be {\"" + name + "\": true or false}"}
	}
	v, ok := in[name]
	if !ok || v == nil || len(in) != 1 {
		return false, fieldError{name, "is required and must be true or false"}
	}
	return *v, nil
}

func (c *confAdmin) apiList(w http.ResponseWriter, r *http.Request) {
	items := []conferenceJSON{}
	for _, v := range c.list(r) {
		items = append(items, toConferenceJSON(v, false))
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": items, "total": len(items)})
}

func (c *confAdmin) apiGet(w http.ResponseWriter, r *http.Request) {
	v, err := c.own(r)
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, toConferenceJSON(v, true))
}

func (c *confAdmin) apiMute(w http.ResponseWriter, r *http.Request) {
	v, p, err := c.ownParticipant(r)
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	muted, err := readBool(w, r, "muted")
	if err == nil {
		err = c.mute(r, v, p, muted)
	}
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	p.Muted = muted
	writeAPI(w, http.StatusOK, toParticipantJSON(p))
}

// apiKick asks the bridge to hang up the participant (a SIP BYE); it answers
// 204 once asked: the participant leaves when its call has ended.
func (c *confAdmin) apiKick(w http.ResponseWriter, r *http.Request) {
	v, p, err := c.ownParticipant(r)
	if err == nil {
		err = c.kick(r, v, p)
	}
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *confAdmin) apiLock(w http.ResponseWriter, r *http.Request) {
	v, err := c.own(r)
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	locked, err := readBool(w, r, "locked")
	if err == nil {
		err = c.lock(r, v, locked)
	}
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	v.Locked = locked
	writeAPI(w, http.StatusOK, toConferenceJSON(v, true))
}

// The pages.

type conferenceRow struct {
	ID, Room, Started, Duration string
	Participants                int
	Locked                      bool
}

type participantRow struct {
	ID, Name, URI, Protocol, Codec, Role, State, Duration string
	Encryption                                            string // encryptionLabel
	Video                                                 string // videoLabel
	Muted, Speaking                                       bool
}

type conferencePage struct {
	ID, Room, Started, Duration string
	Locked                      bool
	Participants                []participantRow
}

// since formats a duration as a person reads it: 1:02:03 or 2:03.
func since(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// started is when a conference started, as its organisation's admins read
// it: in the organisation's time zone, named.
func (c *confAdmin) started(r *http.Request, org bridge.OrganisationID, at time.Time) string {
	loc := time.UTC
	if c.db != nil {
		if l, err := cdr.Location(r.Context(), c.db, string(org)); err == nil {
			loc = l
		}
	}
	return at.In(loc).Format("2006-01-02 15:04:05") + " " + loc.String()
}

func (c *confAdmin) pageList(w http.ResponseWriter, r *http.Request) {
	rows := []conferenceRow{}
	for _, v := range c.list(r) {
		rows = append(rows, conferenceRow{ID: string(v.ID), Room: v.RoomName, Started: c.started(r, v.OrganisationID, v.StartedAt),
			Duration: since(v.Duration), Participants: len(v.Participants), Locked: v.Locked})
	}
	webadmin.RenderPage(w, r, http.StatusOK, webadmin.FeaturePage{Template: conferenceTemplates, Name: "conferences",
		Title: "Live conferences", Active: "/admin/conferences"}, rows)
}

func (c *confAdmin) pageGet(w http.ResponseWriter, r *http.Request) {
	v, err := c.own(r)
	if err != nil {
		c.pageFail(w, r, err)
		return
	}
	d := conferencePage{ID: string(v.ID), Room: v.RoomName, Started: c.started(r, v.OrganisationID, v.StartedAt),
		Duration: since(v.Duration), Locked: v.Locked, Participants: []participantRow{}}
	for _, p := range v.Participants {
		d.Participants = append(d.Participants, participantRow{ID: string(p.ID), Name: p.DisplayName, URI: p.RemoteURI,
			Protocol: string(p.Protocol), Codec: p.AudioCodec, Role: string(p.Role), State: string(p.State),
			Duration: since(p.Duration), Muted: p.Muted, Speaking: p.ID == v.ActiveSpeaker,
			Video: videoLabel(p), Encryption: encryptionLabel(p)})
	}
	webadmin.RenderPage(w, r, http.StatusOK, webadmin.FeaturePage{Template: conferenceTemplates, Name: "conference",
		Title: "Conference in " + v.RoomName, Active: "/admin/conferences"}, d)
}

func (c *confAdmin) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	var fe fieldError
	switch err = notFound(err); {
	case errors.As(err, &fe):
		webadmin.RenderError(w, r, http.StatusBadRequest, "Bad request", "The form's "+fe.Error()+".")
	case errors.Is(err, errConferenceNotFound):
		webadmin.RenderError(w, r, http.StatusNotFound, "Not found", "There is no such live conference in this organisation; it may have ended.")
	case errors.Is(err, errParticipantNotFound):
		webadmin.RenderError(w, r, http.StatusNotFound, "Not found", "There is no such participant in this conference; they may have left.")
	default:
		c.log.ErrorContext(r.Context(), "live conference page failed", "path", r.URL.Path, "err", err)
		webadmin.RenderError(w, r, http.StatusInternalServerError, "Something went wrong", "Something went wrong; it has been logged.")
	}
}

// short cuts a caller's display name (the caller chose it) to fit a flash
// message.
func short(name string) string {
	if r := []rune(name); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	if name == "" {
		return "the participant"
	}
	return name
}

// formBool reads a form's "true" or "false"; anything else is a bad request.
func formBool(r *http.Request, name string) (bool, error) {
	switch r.PostFormValue(name) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fieldError{name, "must be true or false"}
}

func (c *confAdmin) pageMute(w http.ResponseWriter, r *http.Request) {
	v, p, err := c.ownParticipant(r)
	var muted bool
	if err == nil {
		muted, err = formBool(r, "muted")
	}
	if err == nil {
		err = c.mute(r, v, p, muted)
	}
	if err != nil {
		c.pageFail(w, r, err)
		return
	}
	msg := "Unmuted " + short(p.DisplayName) + "."
	if muted {
		msg = "Muted " + short(p.DisplayName) + "."
	}
	webadmin.RedirectFlash(w, r, "/admin/conferences/"+string(v.ID), msg)
}

func (c *confAdmin) pageKick(w http.ResponseWriter, r *http.Request) {
	v, p, err := c.ownParticipant(r)
	if err == nil {
		err = c.kick(r, v, p)
	}
	if err != nil {
		c.pageFail(w, r, err)
		return
	}
	webadmin.RedirectFlash(w, r, "/admin/conferences/"+string(v.ID), "Hung up on "+short(p.DisplayName)+".")
}

func (c *confAdmin) pageLock(w http.ResponseWriter, r *http.Request) {
	v, err := c.own(r)
	var locked bool
	if err == nil {
		locked, err = formBool(r, "locked")
	}
	if err == nil {
		err = c.lock(r, v, locked)
	}
	if err != nil {
		c.pageFail(w, r, err)
		return
	}
	msg := "Unlocked: new participants may join."
	if locked {
		msg = "Locked: nobody else may join."
	}
	webadmin.RedirectFlash(w, r, "/admin/conferences/"+string(v.ID), msg)
}

const confPathParams = `{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}, "description": "The live conference."}`
const partPathParams = confPathParams + `, {"name": "pid", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}, "description": "The participant."}`

var conferencesOpenAPI = `{
  "/conferences": {"get": {"summary": "List the organisation's live conferences.",
    "responses": {"200": {"description": "{items, total}: id, room_id, room_name, started_at, duration_seconds, locked, participant_count."}}}},
  "/conferences/{id}": {"get": {"summary": "One live conference with its participants (name, uri, protocol, codec, video_codec, video_width, video_height, encryption, role, state, muted, duration_seconds).",
    "parameters": [` + confPathParams + `],
    "responses": {"200": {"description": "The conference."}, "404": {"description": "No such live conference in this organisation."}}}},
  "/conferences/{id}/participants/{pid}/mute": {"post": {"summary": "Mute or unmute a participant: while muted the others do not hear it.",
    "parameters": [` + partPathParams + `],
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["muted"], "properties": {"muted": {"type": "boolean"}}}}}},
    "responses": {"200": {"description": "The participant."}, "400": {"description": "Bad request."}, "403": {"description": "Viewers may not."}, "404": {"description": "Not found."}}}},
  "/conferences/{id}/participants/{pid}": {"delete": {"summary": "Hang up on a participant (SIP BYE); it leaves once its call has ended.",
    "parameters": [` + partPathParams + `],
    "responses": {"204": {"description": "Hanging up."}, "403": {"description": "Viewers may not."}, "404": {"description": "Not found."}}}},
  "/conferences/{id}/lock": {"post": {"summary": "Lock or unlock a conference: while locked nobody else may join.",
    "parameters": [` + confPathParams + `],
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["locked"], "properties": {"locked": {"type": "boolean"}}}}}},
    "responses": {"200": {"description": "The conference."}, "400": {"description": "Bad request."}, "403": {"description": "Viewers may not."}, "404": {"description": "Not found."}}}}
}`
