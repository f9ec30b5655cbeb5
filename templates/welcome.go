package templates

// Welcome is what `modbot demo` tells the person who started it.
type Welcome struct {
	Submitted          int
	Inbox, PostAddress string
	IMAPHost, IMAPPort string
	SMTPHost, SMTPPort string
	Users, Moderators  []string
	Password           string
	Web                string // host:port of the web listener, "" when off
	State              string // the database file
}

// Welcome renders the demo's welcome text.
func (s *Set) Welcome(w *Welcome) (string, error) {
	text, err := s.execText("welcome.txt.tmpl", w)
	if err != nil {
		return "", err
	}
	return tidyText(text), nil
}
