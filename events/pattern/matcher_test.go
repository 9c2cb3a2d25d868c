package pattern_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/coworks-go/cws/events/pattern"
)

func TestMatcher(t *testing.T) {
	m := pattern.NewMatcher()
	m.Add("orders", pattern.MustCompile(`{"source":["shop"],"detail-type":["order.completed","order.paid"]}`))
	m.Add("big", pattern.MustCompile(`{"detail":{"total":[{"numeric":[">",100]}]}}`)) // no exact field: scanned
	m.Add("either", pattern.MustCompile(`{"$or":[{"source":["billing"]},{"detail":{"vip":[true]}}]}`))
	m.Add("absent", pattern.MustCompile(`{"source":["shop"],"detail":{"coupon":[{"exists":false}]}}`))
	for ev, want := range map[string][]string{
		`{"source":"shop","detail-type":"order.paid","detail":{"total":500}}`:                 {"absent", "big", "orders"},
		`{"source":"shop","detail-type":"order.paid","detail":{"total":5,"coupon":"X"}}`:      {"orders"},
		`{"source":"billing","detail-type":"x","detail":{}}`:                                  {"either"},
		`{"source":"other","detail-type":"x","detail":{"vip":true,"total":1}}`:                {"either"},
		`{"source":"other","detail-type":"order.paid","detail":{"vip":"true","coupon":null}}`: {},
	} {
		got, err := m.Match([]byte(ev))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Match(%s) = %v %v, want %v", ev, got, err, want)
		}
	}
	// An exact number is indexed by its value: -0, 0.0 and 0 meet.
	m.Add("zero", pattern.MustCompile(`{"detail":{"n":[0]}}`))
	for _, ev := range []string{`{"detail":{"n":-0}}`, `{"detail":{"n":0.0}}`, `{"detail":{"n":[1,0e3]}}`} {
		if got, _ := m.Match([]byte(ev)); !slices.Equal(got, []string{"zero"}) {
			t.Errorf("Match(%s) = %v, want [zero]", ev, got)
		}
	}
	if !m.Uses("detail") || !m.Uses("detail.n") || !m.Uses("detail-type") || m.Uses("detail.n.x") || m.Uses("id") {
		t.Error("Uses does not say which paths the patterns look at")
	}
	m.Remove("zero")
	if m.Uses("detail.n") {
		t.Error("Uses still names a removed pattern's path")
	}
	m.Remove("orders")
	m.Add("big", pattern.MustCompile(`{"detail":{"total":[{"numeric":[">",1000]}]}}`)) // replaced
	got, _ := m.Match([]byte(`{"source":"shop","detail-type":"order.paid","detail":{"total":500}}`))
	if !slices.Equal(got, []string{"absent"}) || m.Len() != 3 {
		t.Errorf("after Remove and replace: %v, %d patterns", got, m.Len())
	}
}

// TestMatcherAgreesWithPatterns checks the index against trying every
// pattern, on random rules and events.
func TestMatcherAgreesWithPatterns(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sources := []string{"a", "b", "c", "d"}
	var pats []*pattern.Pattern
	m := pattern.NewMatcher()
	for i := range 300 {
		var src string
		switch r.IntN(4) {
		case 0:
			src = fmt.Sprintf(`{"source":[%q],"detail":{"n":[{"numeric":[">",%d]}]}}`, sources[r.IntN(4)], r.IntN(10))
		case 1:
			src = fmt.Sprintf(`{"detail":{"n":[%d,%d],"t":[{"prefix":%q}]}}`, r.IntN(10), r.IntN(10), sources[r.IntN(4)])
		case 2:
			src = fmt.Sprintf(`{"$or":[{"source":[%q]},{"detail":{"t":[%q]}}],"detail":{"n":[{"exists":true}]}}`, sources[r.IntN(4)], sources[r.IntN(4)])
		default:
			src = fmt.Sprintf(`{"source":[{"anything-but":%q}],"detail":{"tags":[%q]}}`, sources[r.IntN(4)], sources[r.IntN(4)])
		}
		p := pattern.MustCompile(src)
		pats = append(pats, p)
		m.Add(fmt.Sprint(i), p)
	}
	for range 500 {
		ev := fmt.Sprintf(`{"source":%q,"detail":{"n":%d,"t":"%sx","tags":[%q,%q]}}`, sources[r.IntN(4)], r.IntN(12), sources[r.IntN(4)], sources[r.IntN(4)], sources[r.IntN(4)])
		var want []string
		for i, p := range pats {
			if ok, _ := p.Match([]byte(ev)); ok {
				want = append(want, fmt.Sprint(i))
			}
		}
		slices.Sort(want)
		got, _ := m.Match([]byte(ev))
		if !slices.Equal(got, append([]string{}, want...)) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("event %s: matcher %v, patterns %v", ev, got, want)
		}
	}
}

// BenchmarkMatcher matches one event against N rules, each on its own
// source (the usual shape of rules), with one in ten rules having no exact
// field; naive tries every rule.
func BenchmarkMatcher(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		m := pattern.NewMatcher()
		var pats []*pattern.Pattern
		for i := range n {
			var src string
			if i%10 == 9 {
				src = fmt.Sprintf(`{"detail":{"code":[{"prefix":"E%d-"}]}}`, i)
			} else {
				src = fmt.Sprintf(`{"source":["svc-%d"],"detail-type":["Order Completed"],"detail":{"total":[{"numeric":[">",%d]}]}}`, i, i%100)
			}
			p := pattern.MustCompile(src)
			pats = append(pats, p)
			m.Add(fmt.Sprint(i), p)
		}
		event := []byte(`{"version":"0","id":"1","source":"svc-4","detail-type":"Order Completed","account":"1","time":"2026-01-01T00:00:00Z","region":"eu-west-1","resources":[],"detail":{"total":150,"code":"E9-1","lines":[{"sku":"a"},{"sku":"b"}]}}`)
		e, _ := pattern.Flatten(event)
		b.Run(fmt.Sprintf("rules=%d/impl=indexed", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := m.MatchEvent(e); len(got) == 0 {
					b.Fatal("no match")
				}
			}
		})
		b.Run(fmt.Sprintf("rules=%d/impl=naive", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				for _, p := range pats {
					if p.MatchEvent(e) {
						n++
					}
				}
				if n == 0 {
					b.Fatal("no match")
				}
			}
		})
	}
}
