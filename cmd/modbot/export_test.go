package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportCmd(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "127.0.0.1:1", "127.0.0.1:1", "")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := importCmd(ctx, &out, &errOut, []string{"-config", cfgPath, sampleWXR}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "export.jsonl")
	errOut.Reset()
	if err := exportCmd(ctx, &out, &errOut, []string{"-config", cfgPath, "-o", file}); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "exported 6 published comments, 0 decisions and 0 comment versions\n" {
		t.Errorf("stderr %q", errOut.String())
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", fi.Mode().Perm())
	}
	f, _ := os.Open(file)
	defer f.Close()
	sc := bufio.NewScanner(f)
	byID := map[int64]map[string]any{}
	for sc.Scan() {
		var c map[string]any
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		byID[int64(c["id"].(float64))] = c
	}
	if len(byID) != 6 {
		t.Fatalf("%d lines", len(byID))
	}
	for _, c := range byID {
		for _, k := range []string{"type", "id", "post", "parent", "author_name", "body", "published_at"} {
			if _, ok := c[k]; !ok {
				t.Errorf("line lacks %q: %v", k, c)
			}
		}
		if c["author_name"] == "李小龍" {
			parent := byID[int64(c["parent"].(float64))]
			if parent["author_name"] != "Jean-Luc Picard" || c["published_at"] != "2019-03-05T12:30:00Z" || c["post"] != "hello-world" {
				t.Errorf("nested reply exported as %v (parent %v)", c, parent)
			}
		}
	}

	// To standard output, the same lines.
	out.Reset()
	if err := exportCmd(ctx, &out, &errOut, []string{"-config", cfgPath}); err != nil {
		t.Fatal(err)
	}
	saved, _ := os.ReadFile(file)
	if out.String() != string(saved) || strings.Count(out.String(), "\n") != 6 {
		t.Errorf("stdout export differs from the file's")
	}
}
