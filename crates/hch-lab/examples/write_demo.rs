//! Writes the generated workload to a directory, to run it by hand:
//! `cargo run -p hch-lab --example write_demo -- DIR [small|large] [N] [SEED]`, then
//! `java <flags printed> -cp DIR hchdemo.Main 10`.

use hch_lab::demo::{generate, DemoKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .ok_or("usage: write_demo DIR [small|large] [N] [SEED]")?;
    let kind: DemoKind = args.get(1).map_or(Ok(DemoKind::Small), |k| k.parse())?;
    let methods = args.get(2).map_or(Ok(1000), |n| n.parse())?;
    let seed = args.get(3).map_or(Ok(1), |s| s.parse())?;
    let demo = generate(kind, methods, seed)?;
    demo.write_to(dir.as_ref())?;
    println!("{} {}", demo.jvm_flags.join(" "), demo.main_class);
    Ok(())
}
