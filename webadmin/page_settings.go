package webadmin

import "net/http"

type settingsData struct {
	TimeZoneField field
}

func timeZoneField(v string) field {
	return field{Name: "time_zone", Label: "Time zone", Type: "text", Value: v, Required: true, Autocomplete: "off",
		Hint: "An IANA name such as Europe/Oslo or America/New_York: call statistics count this zone's days, and the admin shows times in it."}
}

// pageSettings shows the organisation's settings; admins may change them.
func (s *Server) pageSettings(w http.ResponseWriter, r *http.Request) {
	o, err := s.store.GetOrganisation(r.Context(), principal(r).OrganisationID)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "settings", "Settings", "/admin/settings", settingsData{TimeZoneField: timeZoneField(o.TimeZone)})
}

func (s *Server) pageUpdateSettings(w http.ResponseWriter, r *http.Request) {
	tz := r.PostFormValue("time_zone")
	if _, err := s.store.SetTimeZone(r.Context(), principal(r).OrganisationID, tz); err != nil {
		f := []field{timeZoneField(tz)}
		if formError(f, err) {
			s.render(w, r, http.StatusBadRequest, "settings", "Settings", "/admin/settings", settingsData{TimeZoneField: f[0]})
			return
		}
		s.pageFail(w, r, err)
		return
	}
	redirectFlash(w, r, "/admin/settings", "Saved the settings.")
}
