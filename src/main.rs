//! `capsim` binary: parse the command line, run, map errors to exit codes
//! (0 ok, 1 runtime failure, 2 bad input).

fn main() {
    let code = match capsim::cli::main(std::env::args_os()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
