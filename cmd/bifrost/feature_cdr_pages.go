package main

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/cdr"
	"github.com/bifrost-video/bifrost/cdr/chart"
	"github.com/bifrost-video/bifrost/webadmin"
)

//go:embed templates/cdr/*.html
var cdrTemplateFS embed.FS

// cdrTemplates are the call records' admin pages, parsed once at start.
var cdrTemplates = template.Must(template.New("cdr").ParseFS(cdrTemplateFS, "templates/cdr/*.html"))

// The call records' admin pages.
var (
	cdrListPage       = webadmin.FeaturePage{Template: cdrTemplates, Name: "cdr-list", Title: "Call records", Active: "/admin/cdr"}
	cdrConferencePage = webadmin.FeaturePage{Template: cdrTemplates, Name: "cdr-conference", Title: "Conference", Active: "/admin/cdr"}
	cdrChartsPage     = webadmin.FeaturePage{Template: cdrTemplates, Name: "cdr-charts", Title: "Call charts", Active: "/admin/cdr"}
	cdrPrivacyPage    = webadmin.FeaturePage{Template: cdrTemplates, Name: "cdr-privacy", Title: "Privacy requests", Active: "/admin/privacy"}
)

// cdrPages serves the call records' admin pages: the filtered list, one
// conference with its participants' quality, the charts, and the privacy
// requests (export and erasure of one person's data).
type cdrPages struct {
	db  *sqlx.DB
	now func() time.Time
}

// cdrPageRoutes are the admin pages' routes, joined to cdrFeature.
func cdrPageRoutes(db *sqlx.DB, now func() time.Time) ([]webadmin.Route, []webadmin.NavItem) {
	p := cdrPages{db: db, now: now}
	return []webadmin.Route{
			{Pattern: "GET /admin/cdr", Access: webadmin.AccessRead, Handler: http.HandlerFunc(p.list)},
			{Pattern: "GET /admin/cdr/conferences/{id}", Access: webadmin.AccessRead, Handler: http.HandlerFunc(p.conference)},
			{Pattern: "GET /admin/cdr/charts", Access: webadmin.AccessRead, Handler: http.HandlerFunc(p.charts)},
			{Pattern: "GET /admin/privacy", Access: webadmin.AccessWrite, Handler: http.HandlerFunc(p.privacy)},
			{Pattern: "POST /admin/privacy/export", Access: webadmin.AccessWrite, Handler: http.HandlerFunc(p.privacyExport)},
			{Pattern: "POST /admin/privacy/erase", Access: webadmin.AccessWrite, Handler: http.HandlerFunc(p.privacyErase)},
		}, []webadmin.NavItem{
			{Title: "Call records", Path: "/admin/cdr", Access: webadmin.AccessRead},
			{Title: "Privacy", Path: "/admin/privacy", Access: webadmin.AccessWrite},
		}
}

const (
	cdrPageSize = 50
	cdrMaxPage  = 1_000_000 // a bound on the offset, far past any real list
)

// The choices of the list's filters.
var (
	cdrProtocols  = []string{"sip", "webrtc", "h323"}
	cdrEndReasons = []string{"hung_up", "kicked", "timeout", "error", "rejected", "shutdown", "bridge_restart"}
)

// cdrListForm is the list's filter form as the user filled it in.
type cdrListForm struct {
	From, To, RoomID, Protocol, MinLoss, EndReason string
}

// parseDay reads a date input (YYYY-MM-DD) as midnight in loc, the
// organisation's time zone.
func parseDay(s string, loc *time.Location) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, s, loc)
}

// pageFilter reads the list page's filters; errs names the fields in error.
func pageFilter(r *http.Request, org string, loc *time.Location) (cdr.Filter, cdrListForm, map[string]string) {
	q := r.URL.Query()
	form := cdrListForm{From: q.Get("from"), To: q.Get("to"), RoomID: q.Get("room_id"), Protocol: q.Get("protocol"),
		MinLoss: q.Get("min_loss_percent"), EndReason: q.Get("end_reason")}
	f := cdr.Filter{OrganisationID: org, Protocol: form.Protocol, EndReason: form.EndReason, Limit: cdrPageSize}
	errs := map[string]string{}
	if form.From != "" {
		t, err := parseDay(form.From, loc)
		if err != nil {
			errs["from"] = "must be a date"
		}
		f.From = t
	}
	if form.To != "" {
		t, err := parseDay(form.To, loc)
		if err != nil {
			errs["to"] = "must be a date"
		}
		f.To = t.AddDate(0, 0, 1) // the whole day
	}
	if form.RoomID != "" {
		if isUUID(form.RoomID) {
			f.RoomID = form.RoomID
		} else {
			form.RoomID = ""
		}
	}
	if form.MinLoss != "" {
		x, err := strconv.ParseFloat(form.MinLoss, 64)
		if err != nil || !(x >= 0 && x <= 100) { // NaN too
			errs["min_loss_percent"] = "must be a number from 0 to 100"
		} else {
			f.MinLossPercent = x
		}
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		f.Offset = (min(n, cdrMaxPage) - 1) * cdrPageSize
	}
	return f, form, errs
}

// pagerView is the layout's "pager" template's data.
type pagerView struct {
	Prev, Next      string
	From, To, Total int
}

func pagerOf(r *http.Request, offset, shown, total int) pagerView {
	q := r.URL.Query()
	link := func(page int) string {
		q.Set("page", strconv.Itoa(page))
		return r.URL.Path + "?" + q.Encode()
	}
	p := pagerView{From: offset + 1, To: offset + shown, Total: total}
	if shown == 0 {
		p.From = 0
	}
	page := offset/cdrPageSize + 1
	if offset > 0 {
		p.Prev = link(page - 1)
	}
	if offset+shown < total {
		p.Next = link(page + 1)
	}
	return p
}

// cdrConferenceRow is one conference as the pages show it.
type cdrConferenceRow struct {
	ID, Started, Ended, Room, Duration, Peak, Flags, Anonymised string
	Legs                                                        int
	Zone                                                        string // the time zone of the times
}

const timeLayout = "2006-01-02 15:04:05"

func conferenceRowOf(c cdr.Conference, loc *time.Location) cdrConferenceRow {
	row := cdrConferenceRow{ID: c.ID, Started: c.StartedAt.In(loc).Format(timeLayout), Ended: "still running", Room: c.RoomName,
		Duration: "—", Peak: "—", Legs: c.Legs, Flags: "none", Zone: loc.String()}
	if row.Room == "" {
		row.Room = "(no room)"
	}
	if c.EndedAt != nil {
		row.Ended = c.EndedAt.In(loc).Format(timeLayout)
		row.Duration = formatDuration(c.EndedAt.Sub(c.StartedAt).Seconds())
	}
	if c.PeakParticipants != nil {
		row.Peak = strconv.Itoa(*c.PeakParticipants)
	}
	var flags []string
	if c.HadPIN {
		flags = append(flags, "PIN")
	}
	if c.WasLocked {
		flags = append(flags, "locked")
	}
	if len(flags) > 0 {
		row.Flags = strings.Join(flags, ", ")
	}
	if c.AnonymisedAt != nil {
		row.Anonymised = c.AnonymisedAt.In(loc).Format(timeLayout)
	}
	return row
}

// formatDuration writes seconds as h:mm:ss.
func formatDuration(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// csvLink is the API's CSV export of everything the list's filters match.
func csvLink(path string, f cdr.Filter) string {
	q := url.Values{"format": {"csv"}}
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(time.RFC3339))
	}
	for k, v := range map[string]string{"room_id": f.RoomID, "protocol": f.Protocol, "end_reason": f.EndReason} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.MinLossPercent > 0 {
		q.Set("min_loss_percent", strconv.FormatFloat(f.MinLossPercent, 'f', -1, 64))
	}
	return path + "?" + q.Encode()
}

func orgOf(r *http.Request) string {
	p, _ := webadmin.PrincipalFrom(r.Context())
	return p.OrganisationID
}

// noOrganisation answers a page asked for without an organisation selected
// (a system administrator who has not chosen one).
func noOrganisation(w http.ResponseWriter, r *http.Request) {
	webadmin.RenderError(w, r, http.StatusBadRequest, "No organisation", "Choose an organisation first.")
}

func (p cdrPages) list(w http.ResponseWriter, r *http.Request) {
	org := orgOf(r)
	if org == "" {
		noOrganisation(w, r)
		return
	}
	loc, err := cdr.Location(r.Context(), p.db, org)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	f, form, errs := pageFilter(r, org, loc)
	status := http.StatusOK
	var confs []cdr.Conference
	total := 0
	if len(errs) > 0 {
		status = http.StatusBadRequest
	} else {
		if confs, total, err = cdr.ListConferences(r.Context(), p.db, f); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	rooms, err := cdr.Rooms(r.Context(), p.db, org)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	rows := make([]cdrConferenceRow, len(confs))
	for i, c := range confs {
		rows[i] = conferenceRowOf(c, loc)
	}
	webadmin.RenderPage(w, r, status, cdrListPage, map[string]any{
		"Zone": loc.String(), "Form": form, "Errors": errs, "Rooms": rooms, "Protocols": cdrProtocols, "EndReasons": cdrEndReasons,
		"Conferences": rows, "Pager": pagerOf(r, f.Offset, len(rows), total),
		"CSVConferences": csvLink("/api/v1/cdr/conferences", f), "CSVLegs": csvLink("/api/v1/cdr/legs", f),
	})
}

// legRow is one participant's leg as the conference page shows it.
type legRow struct {
	Name, Address, Protocol, Device, Role, Started, Duration, End, Codecs, Encryption string
	Loss, Jitter, RTT, Bitrate                                                        string
	Lossy                                                                             bool
}

func orDash[T any](p *T, format func(T) string) string {
	if p == nil {
		return "—"
	}
	return format(*p)
}

func str(s string) string { return s }

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " ms" }

func kbps(v int) string { return strconv.Itoa(v/1000) + " kbit/s" }

func legRowOf(l cdr.Leg, loc *time.Location) legRow {
	row := legRow{Name: orDash(l.DisplayName, str), Protocol: strings.TrimSuffix(l.Protocol+"/"+l.Transport, "/"), Device: orDash(l.UserAgent, str),
		Role: l.Role, Started: l.StartedAt.In(loc).Format(timeLayout), Duration: orDash(l.DurationSeconds, formatDuration),
		End: orDash(l.EndReason, str), Encryption: l.Encryption,
		Loss:  fmt.Sprintf("%s %% (%d of %d)", chart.Format(l.LossPercent), l.PacketsLost, l.PacketsLost+l.PacketsReceived),
		Lossy: l.LossPercent > cdr.LossThresholdPercent}
	row.Address = orDash(l.RemoteURI, str)
	if l.RemoteIP != nil {
		row.Address += " from " + *l.RemoteIP
		if l.RemotePort != nil {
			row.Address += ":" + strconv.Itoa(*l.RemotePort)
		}
	}
	if l.ErrorCode != nil {
		row.End += " (" + strconv.Itoa(*l.ErrorCode) + ")"
	}
	row.Codecs = strings.Trim(l.AudioCodec+", "+l.VideoCodec, ", ")
	row.Jitter = orDash(l.JitterAvgMS, ms) + " / " + orDash(l.JitterMaxMS, ms)
	row.RTT = orDash(l.RTTAvgMS, ms) + " / " + orDash(l.RTTMaxMS, ms)
	row.Bitrate = orDash(l.BitrateIn, kbps) + " / " + orDash(l.BitrateOut, kbps)
	return row
}

func (p cdrPages) conference(w http.ResponseWriter, r *http.Request) {
	c, legs, err := cdr.GetConference(r.Context(), p.db, orgOf(r), r.PathValue("id"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	loc, err := cdr.Location(r.Context(), p.db, c.OrganisationID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	// Oldest first reads as the conference went.
	sort.SliceStable(legs, func(i, j int) bool { return legs[i].StartedAt.Before(legs[j].StartedAt) })
	rows := make([]legRow, len(legs))
	for i, l := range legs {
		rows[i] = legRowOf(l, loc)
	}
	row := conferenceRowOf(c, loc)
	page := cdrConferencePage
	page.Title = "Conference in " + row.Room
	webadmin.RenderPage(w, r, http.StatusOK, page, struct {
		cdrConferenceRow
		Legs []legRow
	}{row, rows})
}

// chartDays is the charts' default period.
const chartDays = 30

func (p cdrPages) charts(w http.ResponseWriter, r *http.Request) {
	org := orgOf(r)
	if org == "" {
		noOrganisation(w, r)
		return
	}
	loc, err := cdr.Location(r.Context(), p.db, org)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	now := p.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	from, to := today.AddDate(0, 0, -(chartDays-1)), today
	q := r.URL.Query()
	data := map[string]any{"Zone": loc.String()}
	status := http.StatusOK
	var bad []string
	if v := q.Get("from"); v != "" {
		t, err := parseDay(v, loc)
		if err != nil {
			bad = append(bad, "From must be a date.")
		}
		from = t
	}
	if v := q.Get("to"); v != "" {
		t, err := parseDay(v, loc)
		if err != nil {
			bad = append(bad, "To must be a date.")
		}
		to = t
	}
	if len(bad) == 0 && (to.Before(from) || to.Sub(from) > 366*24*time.Hour) {
		bad = append(bad, "The period must run forward and last at most a year.")
	}
	// The form shows what was asked for, or the default period's dates.
	for _, f := range []struct {
		name, key string
		t         time.Time
	}{{"from", "From", from}, {"to", "To", to}} {
		if v := q.Get(f.name); v != "" {
			data[f.key] = v
		} else {
			data[f.key] = f.t.Format(time.DateOnly)
		}
	}
	if len(bad) > 0 {
		data["Error"] = strings.Join(bad, " ")
		webadmin.RenderPage(w, r, http.StatusBadRequest, cdrChartsPage, data)
		return
	}
	stats, err := cdr.DailyStats(r.Context(), p.db, org, from, to.AddDate(0, 0, 1))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	charts, calls, minutes, err := cdrCharts(stats)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data["Charts"], data["Calls"], data["Minutes"] = charts, calls, chart.Format(minutes)
	webadmin.RenderPage(w, r, status, cdrChartsPage, data)
}

// cdrCharts draws the four daily charts of stats and sums calls and minutes.
func cdrCharts(stats []cdr.DayStats) ([]template.HTML, int, float64, error) {
	calls, minutes, peak, lossy := make([]chart.Bar, len(stats)), make([]chart.Bar, len(stats)), make([]chart.Bar, len(stats)), make([]chart.Bar, len(stats))
	var totalCalls int
	var totalMinutes float64
	for i, d := range stats {
		label := d.Day.Format("01-02")
		calls[i] = chart.Bar{Label: label, Value: float64(d.Calls)}
		minutes[i] = chart.Bar{Label: label, Value: d.Minutes}
		peak[i] = chart.Bar{Label: label, Value: float64(d.PeakConcurrent)}
		lossy[i] = chart.Bar{Label: label, Value: d.LossyShare()}
		totalCalls += d.Calls
		totalMinutes += d.Minutes
	}
	var out []template.HTML
	for _, c := range []chart.BarChart{
		{Title: "Calls per day", Counts: true, Bars: calls},
		{Title: "Minutes per day", Unit: " min", Bars: minutes},
		{Title: "Peak concurrent participants per day", Counts: true, Bars: peak},
		{Title: fmt.Sprintf("Share of legs with loss above %s %%", chart.Format(cdr.LossThresholdPercent)), Unit: " %", Max: 100, Bars: lossy},
	} {
		svg, err := c.SVG()
		if err != nil {
			return nil, 0, 0, err
		}
		out = append(out, svg)
	}
	return out, totalCalls, totalMinutes, nil
}

// privacyForm is the privacy page's data.
type privacyForm struct {
	ExportSubject, EraseSubject privacyField
	ConfirmError                string
}

// privacyField is the layout's "field" template's data.
type privacyField struct {
	Name, Label, Type, Value, Hint, Error, Pattern, Autocomplete string
	Required                                                     bool
}

func newPrivacyForm() privacyForm {
	hint := "E-mail address, SIP URI, phone number or name."
	return privacyForm{
		ExportSubject: privacyField{Name: "subject", Label: "Person", Type: "text", Hint: hint, Required: true, Autocomplete: "off"},
		EraseSubject:  privacyField{Name: "erase_subject", Label: "Person", Type: "text", Hint: hint, Required: true, Autocomplete: "off"},
	}
}

func (p cdrPages) privacy(w http.ResponseWriter, r *http.Request) {
	if orgOf(r) == "" {
		noOrganisation(w, r)
		return
	}
	webadmin.RenderPage(w, r, http.StatusOK, cdrPrivacyPage, newPrivacyForm())
}

func (p cdrPages) privacyService() *cdr.Privacy {
	return &cdr.Privacy{DB: p.db, Sources: cdrHooks().Sources, Now: p.now}
}

// privacyExport downloads everything stored about a person as JSON (GDPR art. 15).
func (p cdrPages) privacyExport(w http.ResponseWriter, r *http.Request) {
	org := orgOf(r)
	if org == "" {
		noOrganisation(w, r)
		return
	}
	form := newPrivacyForm()
	s, err := cdr.ParseSubject(r.PostFormValue("subject"))
	if err != nil {
		form.ExportSubject.Error = "Name the person: an e-mail address, SIP URI, phone number or name."
		webadmin.RenderPage(w, r, http.StatusBadRequest, cdrPrivacyPage, form)
		return
	}
	exp, err := p.privacyService().Export(r.Context(), org, s)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="subject-access-`+p.now().UTC().Format("20060102-150405")+`.json"`)
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(exp)
}

// privacyErase deletes or anonymises everything stored about a person (GDPR
// art. 17), once the confirmation box is ticked, and says how many rows of
// each kind it changed.
func (p cdrPages) privacyErase(w http.ResponseWriter, r *http.Request) {
	org := orgOf(r)
	if org == "" {
		noOrganisation(w, r)
		return
	}
	form := newPrivacyForm()
	form.EraseSubject.Value = r.PostFormValue("erase_subject")
	s, err := cdr.ParseSubject(form.EraseSubject.Value)
	if err != nil {
		form.EraseSubject.Error = "Name the person: an e-mail address, SIP URI, phone number or name."
	}
	if r.PostFormValue("confirm") != "yes" {
		form.ConfirmError = "Tick the box: erasure cannot be undone."
	}
	if form.EraseSubject.Error != "" || form.ConfirmError != "" {
		webadmin.RenderPage(w, r, http.StatusBadRequest, cdrPrivacyPage, form)
		return
	}
	counts, err := p.privacyService().Erase(r.Context(), org, s)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	// Post/redirect/get, so reloading the page does not erase again; the
	// flash names counts only, never the person.
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + " " + strconv.FormatInt(counts[name], 10)
	}
	webadmin.RedirectFlash(w, r, "/admin/privacy", "Erased (rows): "+strings.Join(parts, ", ")+".")
}

func (p cdrPages) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, cdr.ErrNotFound) {
		webadmin.RenderError(w, r, http.StatusNotFound, "Not found", "There is no such conference in this organisation.")
		return
	}
	webadmin.RenderError(w, r, http.StatusInternalServerError, "Error", "The call records could not be read; please try again.")
}
