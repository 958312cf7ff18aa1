//! `specmine`: train residual networks to recognise radio modulations and mine recordings.

mod bench;
mod convert;
mod eval;
mod generate;
mod inspect;
mod mine;
mod models;
mod plot;
mod plots;
mod quickstart;
mod shipped;
mod study;
mod train;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

// flex allocates every tensor afresh; glibc's malloc returns the large buffers to the kernel
// and page-faults them back in on the next step (a fifth of a training step in `perf`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "specmine",
    version,
    about = "Residual networks for RF modulation recognition and spectrum mining"
)]
pub(crate) struct Cli {
    /// How 1D convolutions and batch norm (with the ReLU and skip addition after it) run:
    /// `gemm` (specmine's own kernels on the flex backend, the default) or `burn` (burn's
    /// conv1d, batch norm, addition and ReLU). Results agree to float rounding; only speed
    /// differs. Also `SPECMINE_CONV`.
    #[arg(long, global = true, value_name = "gemm|burn")]
    pub(crate) conv: Option<specmine_nn::layers::ConvPath>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// The whole pipeline on defaults in minutes: generate, train, evaluate, make a scene, mine it.
    Quickstart(quickstart::Args),
    /// Generate a labelled RF data set (RadioML 2018 HDF5 layout).
    Generate(generate::Args),
    /// Print what a data file holds: classes, SNRs, counts, shapes.
    Inspect(inspect::Args),
    /// Convert labelled data between formats (RadioML pickle, HDF5, NumPy .npz, SigMF).
    Convert(convert::Args),
    /// Generate a wideband SigMF recording of several signals with ground-truth annotations.
    Scene(mine::SceneArgs),
    /// Find, cut out, classify and annotate every signal of a SigMF recording.
    Mine(mine::MineArgs),
    /// List the model zoo: name, family, input, parameters, forward MFLOPs per example.
    Models(models::Args),
    /// Train a modulation classifier (generator or data file).
    Train(train::Args),
    /// Evaluate a trained run on a data file: accuracy per SNR and class, confusion matrices.
    Eval(eval::Args),
    /// Experiments: `study degradation` shows the degradation problem and its residual fix.
    Study(study::Args),
    /// Figures from runs and reports (accuracy vs SNR of several runs, training curves).
    Plot(plot::Args),
    /// Measure throughput: generator, training and inference examples/s.
    Bench(bench::Args),
}

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (v2 and v3 headers alike).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Keep freed memory: by default mimalloc hands it back to the kernel after 10 ms, and each
    // training step then page-faults its buffers in again (23,000 faults per benchmark run
    // against 500 without purging).
    // SAFETY: setting an option is thread-safe and valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    let cli = Cli::parse();
    if let Some(p) = cli.conv {
        specmine_nn::layers::set_conv_path(p);
    }
    if let Err(e) = dispatch(cli.command) {
        // anyhow's alternate format prints the whole cause chain on one line.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

pub(crate) fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Quickstart(a) => quickstart::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Scene(a) => mine::run_scene(a),
        Command::Mine(a) => mine::run_mine(a),
        Command::Models(a) => models::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Study(a) => study::run(a),
        Command::Bench(a) => bench::run(a),
    }
}

/// A progress bar on a terminal; hidden (callers log plain lines instead) otherwise.
pub(crate) fn progress_bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}
