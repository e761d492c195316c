package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[Size]()
)

// decode overlays the YAML document in data onto c. It walks the YAML node
// tree itself, rather than calling yaml.Decoder with KnownFields(true), so
// that every error names the full key path (server.listen) and its line,
// keys may not repeat, integers are not silently truncated from floats, and
// an empty value keeps the default.
func decode(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: all defaults
		}
		return yamlError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return fmt.Errorf("config: line %d: second YAML document; the file must hold exactly one", extra.Line)
	case !errors.Is(err, io.EOF):
		return yamlError(err)
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		root = doc.Content[0]
	}
	return decodeValue("", root, reflect.ValueOf(c).Elem())
}

// yamlError rephrases a yaml.v3 syntax error with this package's prefix.
func yamlError(err error) error {
	return fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "yaml: "))
}

// fieldError is the error for the value at path on line.
func fieldError(n *yaml.Node, path, format string, args ...any) error {
	return fmt.Errorf("config: line %d: %s: %s", n.Line, path, fmt.Sprintf(format, args...))
}

// nodeDecoder is a field type that reads its YAML node itself (a mapping
// whose order matters, such as Measures).
type nodeDecoder interface {
	decodeNode(path string, n *yaml.Node) error
}

// decodeValue stores node n into v, whose key path is path.
func decodeValue(path string, n *yaml.Node, v reflect.Value) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // empty value: keep what v holds
	}
	if v.CanAddr() {
		if d, ok := v.Addr().Interface().(nodeDecoder); ok {
			return d.decodeNode(path, n)
		}
	}
	switch v.Type() {
	case durationType:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			return fieldError(n, path, "invalid duration %q: want a Go duration such as 500ms, 10s or 5m", n.Value)
		}
		d, err := time.ParseDuration(n.Value)
		if err != nil {
			return fieldError(n, path, "invalid duration %q: want a Go duration such as 500ms, 10s or 5m", n.Value)
		}
		v.SetInt(int64(d))
		return nil
	case sizeType:
		s, reason := sizeFromNode(n)
		if reason != "" {
			return fieldError(n, path, "invalid size %q: %s", n.Value, reason)
		}
		v.SetInt(int64(s))
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return decodeStruct(path, n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return fieldError(n, path, "want a list")
		}
		if len(n.Content) == 0 {
			v.Set(reflect.Zero(v.Type())) // an empty list is no list
			return nil
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := decodeValue(path+"["+strconv.Itoa(i)+"]", item, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return fieldError(n, path, "want a string")
		}
		v.SetString(n.Value)
		return nil
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			return fieldError(n, path, "invalid boolean %q: want true or false", n.Value)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			return fieldError(n, path, "invalid integer %q", n.Value)
		}
		v.SetInt(i)
		return nil
	}
	panic("BUG: config field " + path + " has unsupported type " + v.Type().String())
}

// decodeStruct stores mapping n into struct v, rejecting unknown and
// repeated keys.
func decodeStruct(path string, n *yaml.Node, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			return fmt.Errorf("config: line %d: want a mapping of sections (server, auth, ...) at the top level", n.Line)
		}
		return fieldError(n, path, "want a mapping")
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := joinPath(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("config: line %d: keys must be plain strings", k.Line)
		}
		if first, ok := seen[k.Value]; ok {
			return fmt.Errorf("config: line %d: key %q repeated (first at line %d)", k.Line, key, first)
		}
		seen[k.Value] = k.Line
		f, ok := fieldByTag(v, k.Value)
		if !ok {
			return fmt.Errorf("config: line %d: unknown key %q", k.Line, key)
		}
		if err := decodeValue(key, val, f); err != nil {
			return err
		}
	}
	return nil
}

// fieldByTag returns the field of struct v whose yaml tag is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
