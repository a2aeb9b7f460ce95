package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// StackFile is one stack's settings file, Pulumi.<stack>.yaml, with its
// config as Pulumi hands it to a program.
type StackFile struct {
	// Name is the stack's name.
	Name string
	// Path is the file read.
	Path string
	// Config maps full keys ("project:key") to values as Pulumi passes them
	// to a program: strings as they are, numbers and booleans formatted,
	// structured values as JSON; secure values are placeholders.
	Config map[string]string
	// SecretKeys are the keys that hold secure values.
	SecretKeys []string
}

// stackNamePattern is a stack name Pulumi accepts (and a safe file name).
var stackNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// stackFilePrefix and stackFileSuffix frame a stack's name in its file name.
const (
	stackFilePrefix = "Pulumi."
	stackFileSuffix = ".yaml"
)

// StackPath returns the settings file of stack name in dir, checking the name.
func StackPath(dir, name string) (string, error) {
	if !stackNamePattern.MatchString(name) || strings.Trim(name, ".") == "" {
		return "", fmt.Errorf("invalid stack name %q: use letters, digits, '-', '_' and '.'", name)
	}
	return filepath.Join(dir, stackFilePrefix+name+stackFileSuffix), nil
}

// ListStacks returns the names of the stacks with a settings file in dir,
// sorted; files whose name holds no valid stack name are not stacks.
func ListStacks(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing stacks: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, stackFilePrefix) || !strings.HasSuffix(n, stackFileSuffix) {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(n, stackFilePrefix), stackFileSuffix)
		if _, err := StackPath(dir, name); err == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// LoadStack reads the settings file of stack name in dir; keys without a
// namespace belong to project.
func LoadStack(dir, name, project string) (*StackFile, error) {
	path, err := StackPath(dir, name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		known, lerr := ListStacks(dir)
		if lerr != nil {
			return nil, fmt.Errorf("stack %q: no file %s (%w)", name, path, lerr)
		}
		return nil, fmt.Errorf("stack %q: no file %s; the stacks in %s are: %s", name, path, dir, strings.Join(known, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("stack %q: %w", name, err)
	}
	return ParseStack(name, path, data, project)
}

// settingsFile is the part of a stack settings file the runner reads.
type settingsFile struct {
	Config map[string]any `yaml:"config"`
	// Environment imports Pulumi ESC environments, which the runner cannot
	// resolve.
	Environment any `yaml:"environment"`
}

// ParseStack parses the settings file data of stack name (read from path).
func ParseStack(name, path string, data []byte, project string) (*StackFile, error) {
	var f settingsFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("stack %q: %s: %w", name, path, err)
	}
	if f.Environment != nil {
		return nil, fmt.Errorf("stack %q: %s imports Pulumi ESC environments, which the policy runner cannot read; put the config in the file", name, path)
	}
	sf := &StackFile{Name: name, Path: path, Config: map[string]string{}}
	for key, v := range f.Config {
		full := key
		if !strings.Contains(key, ":") {
			full = project + ":" + key
		}
		if ns, k, _ := strings.Cut(full, ":"); ns == "" || k == "" {
			return nil, fmt.Errorf("stack %q: %s: config key %q is not NAMESPACE:KEY", name, path, key)
		}
		value, secret := unwrapSecure(v, full)
		s, err := configString(value)
		if err != nil {
			return nil, fmt.Errorf("stack %q: %s: config key %q: %w", name, path, key, err)
		}
		sf.Config[full] = s
		if secret {
			sf.SecretKeys = append(sf.SecretKeys, full)
		}
	}
	slices.Sort(sf.SecretKeys)
	return sf, nil
}

// Environment returns the value of the key "environment" in project's
// namespace ("" when unset); it decides whether the production rules apply
// (policies.NewStackInfo), as in the policy pack.
func (sf *StackFile) Environment(project string) string {
	return sf.Config[project+":environment"]
}

// Placeholder is the value the runner gives the secret key: long enough for
// every length check, plainly not a real secret, and made of letters,
// digits and '-' only (the key's other characters become '-'), so that it
// passes the strictest password alphabets (an ElastiCache AUTH token).
func Placeholder(key string) string {
	return "policy-check-placeholder-for-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, key)
}

// unwrapSecure replaces every {secure: CIPHERTEXT} in v by a placeholder
// and reports whether it found one.
func unwrapSecure(v any, key string) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		if c, ok := t["secure"].(string); ok && len(t) == 1 && c != "" {
			return Placeholder(key), true
		}
		out := make(map[string]any, len(t))
		secret := false
		for k, e := range t {
			var s bool
			out[k], s = unwrapSecure(e, key+"."+k)
			secret = secret || s
		}
		return out, secret
	case []any:
		out := make([]any, len(t))
		secret := false
		for i, e := range t {
			var s bool
			out[i], s = unwrapSecure(e, fmt.Sprintf("%s[%d]", key, i))
			secret = secret || s
		}
		return out, secret
	default:
		return v, false
	}
}

// configString formats a config value the way Pulumi passes it to programs.
func configString(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case int:
		return strconv.Itoa(t), nil
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64), nil
	case map[string]any, []any:
		b, err := json.Marshal(t)
		if err != nil {
			return "", fmt.Errorf("cannot be given to the program as JSON: %w", err)
		}
		return string(b), nil
	default:
		return "", fmt.Errorf("has a value of unsupported type %T (use strings, numbers, booleans, lists and maps with string keys)", v)
	}
}
