package precheck

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlIndex knows where each key of a TOML document is, so errors found
// after decoding can still name their line. Paths name array elements by
// index: "rule[2].check[0].terms".
type tomlIndex struct {
	lines map[string]int      // path → line of its key or table header
	keys  map[string][]string // table path → its keys, in order
}

// indexTOML indexes data, which must already be known to parse.
func indexTOML(data []byte) *tomlIndex {
	x := &tomlIndex{lines: map[string]int{}, keys: map[string][]string{}}
	counts := map[string]int{} // array path → elements so far
	p := &unstable.Parser{}
	p.Reset(data)
	current := ""
	line := func(n *unstable.Node) int { return p.Shape(n.Raw).Start.Line }
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			parts, first := keyParts(e)
			path := ""
			for i, k := range parts {
				if i == len(parts)-1 && e.Kind == unstable.ArrayTable {
					arr := join(path, k)
					x.addKey(path, k, line(first))
					path = arr + "[" + strconv.Itoa(counts[arr]) + "]"
					counts[arr]++
					break
				}
				next := join(path, k)
				if n, ok := counts[next]; ok && n > 0 {
					next += "[" + strconv.Itoa(n-1) + "]" // the last element so far
				}
				x.addKey(path, k, line(first))
				path = next
			}
			current = path
			x.lines[current] = line(first)
		case unstable.KeyValue:
			x.keyValue(p, current, e)
		}
	}
	return x
}

func (x *tomlIndex) keyValue(p *unstable.Parser, table string, kv *unstable.Node) {
	parts, first := keyParts(kv)
	path := table
	for _, k := range parts {
		x.addKey(path, k, p.Shape(first.Raw).Start.Line)
		path = join(path, k)
	}
	x.value(p, path, kv.Value())
}

// value indexes the inline tables inside a value.
func (x *tomlIndex) value(p *unstable.Parser, path string, v *unstable.Node) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			x.keyValue(p, path, it.Node())
		}
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			el := path + "[" + strconv.Itoa(i) + "]"
			if n := it.Node(); n.Kind == unstable.InlineTable {
				x.lines[el] = x.lines[path]
				x.value(p, el, n)
			}
		}
	}
}

func (x *tomlIndex) addKey(table, key string, line int) {
	path := join(table, key)
	if _, ok := x.lines[path]; !ok {
		x.keys[table] = append(x.keys[table], key)
		x.lines[path] = line
	}
}

// line returns the line of path, or of the nearest enclosing table that
// has one, or 0.
func (x *tomlIndex) line(path string) int {
	for path != "" {
		if n, ok := x.lines[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// has reports whether the table at path sets key.
func (x *tomlIndex) has(path, key string) bool {
	_, ok := x.lines[join(path, key)]
	return ok
}

func keyParts(n *unstable.Node) ([]string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if first == nil {
			first = k
		}
		parts = append(parts, string(k.Data))
	}
	return parts, first
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
