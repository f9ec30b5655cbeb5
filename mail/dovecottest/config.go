package dovecottest

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

// config is what dovecot.conf is made from.
type config struct {
	Instance string
	Dir      string // holds everything below
	BaseDir  string // sockets and master.pid; short, for sun_path's limit
	LogPath  string
	Users    string // passwd-file path

	MailUID, MailGID int
	// NonRoot: Dovecot runs as the current user, so its internal and login
	// processes cannot switch users or chroot.
	NonRoot             bool
	UserName, GroupName string

	IMAPPort, LMTPPort int
}

// confTemplate is for Dovecot 2.3 (Debian 12). Mail lives in maildirs; a
// plus address is delivered to INBOX, as most providers do.
var confTemplate = template.Must(template.New("dovecot.conf").Parse(`# Written by dovecottest for one test run.
instance_name = {{.Instance}}
base_dir = {{.BaseDir}}
state_dir = {{.Dir}}/state
log_path = {{.LogPath}}
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
# Tests try wrong passwords: answer at once, and no growing penalty
# (anvil-auth-penalty below) that would slow every later login.
auth_failure_delay = 0
hostname = dovecottest.localhost
postmaster_address = postmaster@dovecottest.localhost
first_valid_uid = {{.MailUID}}
last_valid_uid = {{.MailUID}}
first_valid_gid = {{.MailGID}}
mail_location = maildir:~/Maildir
# Tests open several connections per user (watcher, filer, assertions).
mail_max_userip_connections = 100
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
lda_mailbox_autocreate = yes
lda_mailbox_autosubscribe = yes
{{- if .NonRoot}}
default_internal_user = {{.UserName}}
default_internal_group = {{.GroupName}}
default_login_user = {{.UserName}}
{{- end}}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {{.Users}}
}
userdb {
  driver = passwd-file
  args = username_format=%Lu {{.Users}}
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = {{.IMAPPort}}
  }
  inet_listener imaps {
    port = 0
  }
{{- if .NonRoot}}
  chroot =
{{- end}}
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
{{- if .NonRoot}}
  chroot =
{{- end}}
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = {{.LMTPPort}}
  }
}
{{- if .NonRoot}}
service ipc {
  chroot =
}
{{- end}}
`))

func (c config) render() ([]byte, error) {
	var b bytes.Buffer
	if err := confTemplate.Execute(&b, c); err != nil {
		return nil, fmt.Errorf("render dovecot.conf: %w", err)
	}
	return b.Bytes(), nil
}

// owner is who Dovecot's mail processes run as.
type owner struct {
	uid, gid int
	// nonRoot: Dovecot runs as the current user, with that user and group
	// for its internal and login processes too.
	nonRoot             bool
	userName, groupName string
}

// mailOwner picks the uid and gid mail is stored as. Dovecot refuses to
// run mail processes as root, so as root an unprivileged system user owns
// the mail; otherwise everything runs as the current user.
func mailOwner() (owner, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return owner{}, fmt.Errorf("current user: %w", err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return owner{}, fmt.Errorf("current group: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return owner{uid: uid, gid: gid, nonRoot: true, userName: u.Username, groupName: g.Name}, nil
	}
	for _, name := range []string{"nobody", "dovecot"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if uid != 0 {
			return owner{uid: uid, gid: gid}, nil
		}
	}
	return owner{}, fmt.Errorf("no unprivileged user (nobody, dovecot) to own the mail")
}

// usersFile is a passwd-file: every user has the same plain password and a
// home under mailRoot.
func usersFile(users []string, password string, uid, gid int, mailRoot string) []byte {
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s:%d:%d::%s::\n", u, password, uid, gid, filepath.Join(mailRoot, u))
	}
	return []byte(b.String())
}
