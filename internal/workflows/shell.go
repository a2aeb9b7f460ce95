package workflows

import (
	"fmt"
	"strings"
	"unicode"
)

// ShellWords splits s into words as a POSIX shell would for a simple
// command: blanks separate words; single quotes keep everything literal;
// double quotes keep blanks; a backslash escapes the next character
// (inside double quotes only $, ", \ and `); $NAME and ${NAME} expand from
// vars outside single quotes. A variable vars lacks, an unterminated quote
// and command substitution are errors, so that a check never passes on
// text it did not understand.
func ShellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '\'':
			end := indexRune(rs, i+1, '\'')
			if end < 0 {
				return nil, fmt.Errorf("shell words %q: unterminated single quote", s)
			}
			cur.WriteString(string(rs[i+1 : end]))
			i, inWord = end, true
		case r == '"':
			j, err := doubleQuoted(rs, i+1, vars, &cur)
			if err != nil {
				return nil, fmt.Errorf("shell words %q: %w", s, err)
			}
			i, inWord = j, true
		case r == '\\':
			if i+1 < len(rs) {
				i++
				cur.WriteRune(rs[i])
			}
			inWord = true
		case r == '$':
			j, err := expand(rs, i, vars, &cur)
			if err != nil {
				return nil, fmt.Errorf("shell words %q: %w", s, err)
			}
			i, inWord = j, true
		case r == '`':
			return nil, fmt.Errorf("shell words %q: command substitution is not supported", s)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// doubleQuoted copies a double-quoted string starting after its opening
// quote at rs[from:] to cur, and returns the index of the closing quote.
func doubleQuoted(rs []rune, from int, vars map[string]string, cur *strings.Builder) (int, error) {
	for i := from; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '"':
			return i, nil
		case '\\':
			if i+1 < len(rs) && strings.ContainsRune("$\"\\`", rs[i+1]) {
				i++
				cur.WriteRune(rs[i])
			} else {
				cur.WriteRune(r)
			}
		case '$':
			j, err := expand(rs, i, vars, cur)
			if err != nil {
				return 0, err
			}
			i = j
		case '`':
			return 0, fmt.Errorf("command substitution is not supported")
		default:
			cur.WriteRune(r)
		}
	}
	return 0, fmt.Errorf("unterminated double quote")
}

// expand writes the value of the variable referenced at rs[at] ('$') to
// cur and returns the index of the reference's last rune.
func expand(rs []rune, at int, vars map[string]string, cur *strings.Builder) (int, error) {
	if at+1 >= len(rs) {
		cur.WriteRune('$')
		return at, nil
	}
	var name string
	end := at
	switch next := rs[at+1]; {
	case next == '{':
		close := indexRune(rs, at+2, '}')
		if close < 0 {
			return 0, fmt.Errorf("unterminated ${")
		}
		name, end = string(rs[at+2:close]), close
	case next == '(':
		return 0, fmt.Errorf("command substitution is not supported")
	case next == '_' || unicode.IsLetter(next):
		j := at + 1
		for j < len(rs) && (rs[j] == '_' || unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
			j++
		}
		name, end = string(rs[at+1:j]), j-1
	default:
		cur.WriteRune('$')
		return at, nil
	}
	v, ok := vars[name]
	if !ok {
		return 0, fmt.Errorf("variable %q is not defined", name)
	}
	cur.WriteString(v)
	return end, nil
}

func indexRune(rs []rune, from int, r rune) int {
	for i := from; i < len(rs); i++ {
		if rs[i] == r {
			return i
		}
	}
	return -1
}
