//! The two cheapest scenarios of the table, end to end through the host protocol against
//! the Rust agent (`make scenarios` runs all eight).

use steadysock_conformance::scenario::Table;

#[test]
fn queue_and_close_scenarios_pass_through_the_rust_agent() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/scenarios.json");
    let table = Table::load(path).unwrap().for_host("rust");
    let agent = vec![env!("CARGO_BIN_EXE_scenario-agent").to_string()];
    let mut ran = 0;
    for s in table.scenarios.iter().filter(|s| s["id"] == "S7" || s["id"] == "S8") {
        table
            .run(s, &agent, false)
            .unwrap_or_else(|why| panic!("{}: {why}", s["id"]));
        ran += 1;
    }
    assert_eq!(ran, 2);
}
