package api_test

// The README's command blocks are a newcomer's walk-through: every curl in
// them must call a route that exists with its method, every file they send
// must be created first, and no command may hold a placeholder to fill in.

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/api"
)

// readmeCommands returns the README's sh blocks as commands, continuation
// lines joined and comments dropped.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	in := false
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
			continue
		case strings.HasPrefix(line, "```"):
			in = false
			continue
		}
		if !in {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 && strings.Count(line[:i], "'")%2 == 0 && strings.Count(line[:i], `"`)%2 == 0 {
			line = line[:i]
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		line = strings.TrimRight(line, " ")
		if strings.HasSuffix(line, `\`) {
			cur += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		cur += line
		if strings.TrimSpace(cur) != "" {
			cmds = append(cmds, strings.TrimSpace(cur))
		}
		cur = ""
	}
	return cmds
}

var (
	curlURL    = regexp.MustCompile(`(?:localhost|127\.0\.0\.1):8080(/[^\s'"|)]*)`)
	curlMethod = regexp.MustCompile(`-X\s+([A-Z]+)`)
	upload     = regexp.MustCompile(`(?:-F\s+\w+=@|-d\s+@|--data-binary\s+@)([^\s'"]+)`)
)

func TestReadmeCommandsCallRoutesThatExist(t *testing.T) {
	f := newFixture(t, api.Config{})
	type rt struct {
		method string
		re     *regexp.Regexp
	}
	var routes []rt
	add := func(method, path string) {
		p := regexp.MustCompile(`:[a-z_]+`).ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`)
		routes = append(routes, rt{method, regexp.MustCompile("^" + p + "$")})
	}
	for _, r := range f.srv.Routes() {
		add(r.Method, r.Path)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.yaml", "/dev/mail", "/dev/mail/:id"} {
		add("GET", p)
	}
	created := map[string]bool{}
	curls := 0
	for _, cmd := range readmeCommands(t) {
		if regexp.MustCompile(`<[a-z_]+>|…`).MatchString(cmd) {
			t.Errorf("a placeholder to fill in: %s", cmd)
		}
		for _, m := range regexp.MustCompile(`>\s*([\w.-]+)`).FindAllStringSubmatch(cmd, -1) {
			created[m[1]] = true
		}
		if !strings.Contains(cmd, "curl ") {
			continue
		}
		for _, m := range upload.FindAllStringSubmatch(cmd, -1) {
			if !created[m[1]] {
				t.Errorf("sends %s, which no earlier command creates: %s", m[1], cmd)
			}
		}
		u := curlURL.FindStringSubmatch(cmd)
		if u == nil {
			continue
		}
		curls++
		method := "GET"
		if m := curlMethod.FindStringSubmatch(cmd); m != nil {
			method = m[1]
		} else if strings.Contains(cmd, " -d ") || strings.Contains(cmd, " -F ") {
			method = "POST"
		}
		path := strings.SplitN(u[1], "?", 2)[0]
		path = regexp.MustCompile(`\$\{?\w+\}?`).ReplaceAllString(path, "x")
		ok := false
		for _, r := range routes {
			ok = ok || r.method == method && r.re.MatchString(path)
		}
		if !ok {
			t.Errorf("%s %s is not a route: %s", method, path, cmd)
		}
	}
	if curls < 15 {
		t.Fatalf("found only %d curl commands in the README", curls)
	}
}

// Every sh block parses (an apostrophe inside a single-quoted JSON body once
// broke one): bash -n, when bash is installed.
func TestReadmeBlocksParse(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(m[1])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sh block %d does not parse: %v\n%s", i+1, err, out)
		}
	}
}
