package templates

// AdminConfirmation tells an admin what their reply to a report did.
type AdminConfirmation struct {
	SiteName, Admin string
	Subject         string // of the admin's reply
	Applied         []string
	Errors          []ReplyError
}

// ReplySubject is "Re: " and the subject of the admin's reply.
func (c *AdminConfirmation) ReplySubject() string { return reSubject(c.Subject) }

// AdminConfirmation renders the confirmation of an admin's commands.
func (s *Set) AdminConfirmation(c *AdminConfirmation) (*Rendered, error) {
	return s.render("admin_confirmation", c)
}
