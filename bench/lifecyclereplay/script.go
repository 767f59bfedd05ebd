package main

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// fresh names the values that must be new in every replayed lifecycle (the
// target's tenant, subscription and domain, the rows the lifecycle creates)
// by their pgbench variable.
type fresh map[string]string

var placeholder = regexp.MustCompile(`\$(\d+)`)

// script turns the recorded statements into a pgbench script: the first
// command takes a fresh target and fresh IDs (\gset), and every recorded
// statement follows with its arguments as literals, except fresh values,
// which become variables (parameters under -M prepared).
func script(sent []statement, vars fresh, header string) (string, error) {
	var b strings.Builder
	b.WriteString(header)
	for _, st := range sent {
		line, err := render(st, vars)
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		b.WriteString(";\n")
	}
	return b.String(), nil
}

func render(st statement, vars fresh) (string, error) {
	vals := make([]string, len(st.args))
	for i, a := range st.args {
		v, err := driverValue(a)
		if err != nil {
			return "", fmt.Errorf("argument %d of %q: %w", i+1, st.sql, err)
		}
		if s, ok := v.(string); ok && vars[s] != "" {
			vals[i] = ":" + vars[s]
			continue
		}
		if vals[i], err = literal(v); err != nil {
			return "", fmt.Errorf("argument %d of %q: %w", i+1, st.sql, err)
		}
	}
	var bad error
	out := placeholder.ReplaceAllStringFunc(st.sql, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		if n < 1 || n > len(vals) {
			bad = fmt.Errorf("%q has no argument %s", st.sql, m)
			return m
		}
		return vals[n-1]
	})
	return out, bad
}

// literal writes a driver value as SQL.
func literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case string:
		return quote(x), nil
	case []byte:
		return quote(`\x` + hex.EncodeToString(x)), nil
	case time.Time:
		return quote(x.UTC().Format("2006-01-02 15:04:05.999999+00")), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("no literal for %T", v)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
