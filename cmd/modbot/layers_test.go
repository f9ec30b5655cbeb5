package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// floors are the rows of the table in docs/ARCHITECTURE.md, "Packages and
// their floors", top first: a package imports only packages of rows below
// its own. A package that is in no row fails the test, so a new package
// is placed in the table (and here) when it is added.
var floors = [][]string{
	{"cmd/modbot"},
	{"cmd/modbot/internal/demo"},
	{"cmd/modbot/internal/daemon"},
	{"cmd/modbot/internal/doctor"},
	{"cmd/modbot/internal/config"},
	{"web"},
	{"cmd/modbot/internal/wxr"},
	{"queue"},
	{"queue/precheck"},
	{"mail"},
	{"templates"},
	{"internal/chart", "internal/editdist", "internal/progress", "internal/stmtcache"},
	{"mail/dovecottest", "mail/postfixtest"},
	{"mail/devmail"},
	{"mail/mastertest"},
	{"cmd/modbot/bench"},
}

// TestImportsPointDown reads every package's imports with go list (test
// files aside: a test may start servers of any floor) and fails on an
// import of a package on the same row or a row above.
func TestImportsPointDown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	row := map[string]int{}
	for i, f := range floors {
		for _, p := range f {
			row["modbot/"+p] = i
		}
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		r, ok := row[p.ImportPath]
		if !ok {
			t.Errorf("%s is on no floor: add it to docs/ARCHITECTURE.md's table and to floors", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, "modbot/") {
				continue
			}
			ir, ok := row[imp]
			if ok && ir <= r {
				t.Errorf("%s imports %s, which is not below it (%s)", p.ImportPath, imp, strings.Join(floors[ir], ", "))
			}
		}
	}
	if seen < len(row) {
		var listed []string
		for p := range row {
			listed = append(listed, p)
		}
		slices.Sort(listed)
		t.Errorf("go list found %d packages, the floors name %d: %v", seen, len(row), listed)
	}
}
