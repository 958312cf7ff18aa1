//! `specmine models`: the registry as a table.

use anyhow::Result;
use specmine_nn::registry;

#[derive(clap::Args)]
pub struct Args {
    /// Print one preset's full config (JSON) instead of the table.
    #[arg(long)]
    pub show: Option<String>,
}

pub fn run(a: Args) -> Result<()> {
    if let Some(name) = a.show {
        println!(
            "{}",
            serde_json::to_string_pretty(&specmine_nn::preset(&name)?)?
        );
        return Ok(());
    }
    println!(
        "{:<20} {:<15} {:<12} {:>8} {:>14} {:>12}",
        "name", "family", "input", "classes", "parameters", "fwd MFLOPs"
    );
    for p in registry() {
        let i = p.config.input();
        let input = if i.is_1d() {
            format!("{}x{}", i.channels, i.width)
        } else {
            format!("{}x{}x{}", i.channels, i.height, i.width)
        };
        let c = p.config.cost();
        println!(
            "{:<20} {:<15} {:<12} {:>8} {:>14} {:>12.1}",
            p.name,
            p.family,
            input,
            p.config.num_classes(),
            group(c.params),
            c.mflops()
        );
    }
    Ok(())
}

/// 1234567 -> "1,234,567".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
