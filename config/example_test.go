package config_test

import (
	"fmt"

	"github.com/baldur-go/baldur/config"
)

func ExampleDict() {
	p := config.NewDict(map[string]any{
		"BALDUR": map[string]any{
			"SLA": map[string]any{"DEFAULT_HOURS": 24, "STRICT": "yes"},
		},
	})
	p.Set("BALDUR.SLA.RATE", "0.75")

	fmt.Println(p.GetInt("BALDUR.SLA.DEFAULT_HOURS", 8))
	fmt.Println(p.GetBool("BALDUR.SLA.STRICT", false))
	fmt.Println(p.GetFloat("BALDUR.SLA.RATE", 0))
	fmt.Println(p.GetInt("BALDUR.SLA.MISSING", 8))
	fmt.Println(p.GetString("BALDUR.SLA", ""))
	// Output:
	// 24
	// true
	// 0.75
	// 8
	// {"DEFAULT_HOURS":24,"RATE":"0.75","STRICT":"yes"}
}

func ExampleEnv() {
	environ := func() []string {
		return []string{
			"APP__BALDUR__SLA__DEFAULT_HOURS=24",
			"APP__BALDUR__SLA__REGIONS=[\"eu\",\"us\"]",
			"APP__BALDUR__NAME=",
		}
	}
	p := config.NewEnv(config.WithPrefix("APP"), config.WithEnviron(environ))

	fmt.Println(p.VarName("baldur.sla.default_hours"))
	fmt.Println(p.GetInt("baldur.sla.default_hours", 8))
	fmt.Printf("%q\n", p.GetString("baldur.name", "unset"))
	fmt.Println(p.GetSection("baldur"))
	// Output:
	// APP__BALDUR__SLA__DEFAULT_HOURS
	// 24
	// ""
	// map[name: sla:map[default_hours:24 regions:[eu us]]]
}

func ExampleParseValue() {
	for _, raw := range []string{`{"a":1}`, "TRUE", "3.5", "1_000", "1.2.3", ""} {
		v := config.ParseValue(raw)
		fmt.Printf("%q -> %T %v\n", raw, v, v)
	}
	// Output:
	// "{\"a\":1}" -> map[string]interface {} map[a:1]
	// "TRUE" -> bool true
	// "3.5" -> float64 3.5
	// "1_000" -> int64 1000
	// "1.2.3" -> string 1.2.3
	// "" -> string
}

func ExampleToInt() {
	fmt.Println(config.ToInt(" 42 ", true, 0))
	fmt.Println(config.ToInt("1_000", true, 0))
	fmt.Println(config.ToInt("3.5", true, -1))
	fmt.Println(config.ToInt(3.9, true, 0))
	fmt.Println(config.ToInt(nil, true, 7))
	// Output:
	// 42
	// 1000
	// -1
	// 3
	// 7
}
