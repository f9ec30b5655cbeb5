package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	texttemplate "text/template"
)

//go:embed *.tmpl
var embedded embed.FS

// Set is a parsed set of templates. It is safe for concurrent use.
type Set struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// Rendered is a message ready to be composed into mail: a one-line
// subject, the text/plain part and the text/html part ("" when the message
// has no HTML template).
type Rendered struct {
	Subject, Text, HTML string
}

// Load parses the embedded templates, each replaced by the file of the
// same name in overrideDir if there is one ("" means embedded only). A
// .tmpl file in overrideDir that matches no embedded template is an error,
// so a misspelt override does not go unnoticed. Parse errors name the
// file and line.
func Load(overrideDir string) (*Set, error) {
	names, err := fs.Glob(embedded, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: list embedded: %w", err)
	}
	src := make(map[string][]byte, len(names))
	where := make(map[string]string, len(names)) // name → file shown in errors
	for _, name := range names {
		b, err := embedded.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("templates: read embedded %s: %w", name, err)
		}
		src[name], where[name] = b, "embedded "+name
	}
	if overrideDir != "" {
		if err := readOverrides(overrideDir, src, where); err != nil {
			return nil, err
		}
	}

	s := &Set{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasSuffix(name, ".html.tmpl") {
			t, err := htmltemplate.New(name).Funcs(htmltemplate.FuncMap(funcs)).Parse(string(src[name]))
			if err != nil {
				return nil, fmt.Errorf("templates: %s: %w", where[name], err)
			}
			s.html[name] = t
			continue
		}
		t, err := texttemplate.New(name).Funcs(texttemplate.FuncMap(funcs)).Parse(string(src[name]))
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", where[name], err)
		}
		s.text[name] = t
	}
	return s, nil
}

func readOverrides(dir string, src map[string][]byte, where map[string]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("templates: override directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".tmpl") {
			continue
		}
		path := filepath.Join(dir, name)
		if _, ok := src[name]; !ok {
			return fmt.Errorf("templates: override %s: no template of that name", path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("templates: override: %w", err)
		}
		src[name], where[name] = b, path
	}
	return nil
}

// render executes the templates of the message called name.
func (s *Set) render(name string, data any) (*Rendered, error) {
	var r Rendered
	subject, err := s.execText(name+".subject.tmpl", data)
	if err != nil {
		return nil, err
	}
	r.Subject = oneline(subject)
	text, err := s.execText(name+".txt.tmpl", data)
	if err != nil {
		return nil, err
	}
	r.Text = tidyText(text)
	if t, ok := s.html[name+".html.tmpl"]; ok {
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		r.HTML = b.String()
	}
	return &r, nil
}

var errNoTemplate = errors.New("templates: no such template")

func (s *Set) execText(name string, data any) (string, error) {
	t, ok := s.text[name]
	if !ok {
		return "", fmt.Errorf("%w: %s", errNoTemplate, name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("templates: %w", err)
	}
	return b.String(), nil
}

// tidyText lets templates be written for readability: it drops trailing
// white space on every line (which format=flowed would read as a soft
// break), keeps at most one blank line in a row, and ends the text with
// exactly one newline.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var b strings.Builder
	blank := true // drops blank lines at the start too
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
