package main

import (
	"flag"
	"fmt"
	"io"

	"modbot/mail"
)

// replyCheckCmd prints the commands modbot reads from a moderator's reply,
// one a line, normalised; "none" when there are none; and the lines it
// could not apply as "error: …". Admins use it to answer "why did my
// reply do nothing?".
func replyCheckCmd(in io.Reader, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("reply-check", flag.ContinueOnError)
	showText := fs.Bool("text", false, "also print the moderator's own text as modbot read it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := mail.Parse(in, nil)
	if err != nil {
		return fmt.Errorf("read the message: %w", err)
	}
	reply := mail.ExtractReply(m)
	if *showText {
		fmt.Fprintf(out, "--- own text ---\n%s\n--- commands ---\n", reply.Text)
	}
	_, err = io.WriteString(out, mail.FormatCommands(mail.ParseCommands(reply)))
	return err
}
