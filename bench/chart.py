"""The benchmark report's chart: speeds relative to the host as grouped bars (gnuplot)."""
import os
import shutil
import subprocess
import tempfile

TITLES = {"host": "host", "fuse": "kernel FUSE", "sim-inline": "sim-inline",
          "sim-thread": "sim-thread"}


def write_bars(rows, shown, png_path, gnuplot="gnuplot"):
    """Writes `rows` ([(label, [ratio or None per back end in `shown`])]) to `png_path`.
    Returns None, or why no chart was written."""
    if shutil.which(gnuplot) is None:
        return "gnuplot not found (tools/setup.sh installs gnuplot-nox)"
    lines = ['"%s" %s' % (label, " ".join("%.6g" % v if v else "NaN" for v in values))
             for label, values in rows]
    plot = ", ".join('"%s" using %d%s title "%s"' % (
        "DATA" if i == 0 else "", i + 2, ":xtic(1)" if i == 0 else "", TITLES[b])
        for i, b in enumerate(shown))
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.txt")
        with open(data, "w") as f:
            f.write("\n".join(lines) + "\n")
        script = "\n".join([
            'set terminal pngcairo size 1800,750 font ",10"',
            'set output "%s"' % png_path,
            'set title "File system operations: speed relative to the host\'s own calls '
            '(1 = host, higher is faster)"',
            "set style data histogram",
            "set style histogram clustered gap 1",
            "set style fill solid 0.85 border -1",
            "set boxwidth 0.9",
            "set logscale y 10",
            "set yrange [0.001:10]",
            "set grid ytics",
            'set ylabel "speed / host speed (log scale)"',
            "set xtics rotate by -35 left",
            "set key top right",
            "set bmargin 9",
            "set rmargin 14",
            "plot " + plot.replace("DATA", data, 1),
        ])
        proc = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
        if proc.returncode != 0:
            return "gnuplot failed: " + proc.stderr.strip()
    return None
