package templates

// Escalation tells the admins which comments have waited too long.
type Escalation struct {
	SiteName  string
	Threshold string // "4 days"
	Items     []OverdueItem
}

// Escalation renders the admins' escalation mail.
func (s *Set) Escalation(e *Escalation) (*Rendered, error) { return s.render("escalation", e) }
