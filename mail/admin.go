package mail

import (
	"net/mail"
	"strings"
)

// AdminVerb is what an admin asks for by replying to a report.
type AdminVerb string

// The admin commands.
const (
	AdminBlock           AdminVerb = "block"
	AdminUnblock         AdminVerb = "unblock"
	AdminAddModerator    AdminVerb = "add moderator"
	AdminRemoveModerator AdminVerb = "remove moderator"
	AdminPauseDigests    AdminVerb = "pause digests"
	AdminResumeDigests   AdminVerb = "resume digests"
)

// AdminCommand is one line of an admin's reply.
type AdminCommand struct {
	Verb AdminVerb
	Addr string // for block, unblock, add and remove
	Raw  string
	Line int
}

// ParseAdminCommands reads admin commands from the admin's own text, one
// a line, case-insensitive:
//
//	block sender@x.example        unblock sender@x.example
//	add moderator x@y.example     remove moderator x@y.example
//	pause digests                 resume digests
//
// A line that starts with one of these words but cannot be read is an
// error; other lines are conversation and ignored.
func ParseAdminCommands(r Reply) ([]AdminCommand, []CommandError) {
	var cmds []AdminCommand
	var errs []CommandError
	for i, l := range r.Lines {
		raw := strings.TrimSpace(l.Text)
		f := strings.Fields(strings.ToLower(strings.TrimLeft(raw, "-*• ")))
		if len(f) == 0 {
			continue
		}
		bad := func(why string) { errs = append(errs, CommandError{Line: i + 1, Raw: raw, Reason: why}) }
		addr := func(s string) (string, bool) {
			a, err := mail.ParseAddress(s)
			if err != nil || a.Address != s {
				return "", false
			}
			return strings.ToLower(a.Address), true
		}
		switch {
		case f[0] == "block" || f[0] == "unblock":
			if len(f) != 2 {
				bad(`write "` + f[0] + ` sender@example.com", one address a line`)
				continue
			}
			a, ok := addr(f[1])
			if !ok {
				bad(`"` + f[1] + `" is not an email address`)
				continue
			}
			cmds = append(cmds, AdminCommand{Verb: AdminVerb(f[0]), Addr: a, Raw: raw, Line: i + 1})
		case (f[0] == "add" || f[0] == "remove") && len(f) >= 2 && strings.HasPrefix(f[1], "moderator"):
			if len(f) != 3 {
				bad(`write "` + f[0] + ` moderator name@example.com"`)
				continue
			}
			a, ok := addr(f[2])
			if !ok {
				bad(`"` + f[2] + `" is not an email address`)
				continue
			}
			cmds = append(cmds, AdminCommand{Verb: AdminVerb(f[0] + " moderator"), Addr: a, Raw: raw, Line: i + 1})
		case f[0] == "pause" || f[0] == "resume":
			if len(f) != 2 || !strings.HasPrefix(f[1], "digest") {
				bad(`write "` + f[0] + ` digests"`)
				continue
			}
			cmds = append(cmds, AdminCommand{Verb: AdminVerb(f[0] + " digests"), Raw: raw, Line: i + 1})
		}
	}
	return cmds, errs
}
