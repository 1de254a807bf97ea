# bench/scale's plots: gnuplot -e "dir='RESULTS'; out='bench/plots'" bench/tools/scale.gp
# One PNG per curve, from the TSV files bench/scale and scale_summary.py write (a missing file: no plot).
set datafile separator "\t"
set terminal pngcairo size 1000,420 font "sans,10" noenhanced
set grid
set key bottom right
present(f) = system("test -s " . f . " && echo 1 || echo 0") eq "1"
is(c, s) = strcol(c) eq s
style(t) = t eq "mesh-egress" ? 1 : t eq "nginx" ? 2 : 3
set style line 1 lc rgb "#1f77b4" lw 2 pt 7
set style line 2 lc rgb "#2ca02c" lw 2 pt 5
set style line 3 lc rgb "#d62728" lw 2 pt 9
set style line 4 lc rgb "#9467bd" lw 2 pt 13

f = dir . "/decision.tsv"
if (present(f)) {
  set output out . "/scale-policy-decision.png"
  set multiplot layout 1,2 title "Route-table decision cost (JMH, ns per decision, 1 CPU)"
  set key top left
  set logscale x; set xlabel "host patterns (one role)"; set ylabel "ns per decision"; set yrange [0:*]
  plot f skip 1 using ((is(1,"patterns") && is(2,"decideForClient")) ? $3 : 1/0):5 with linespoints ls 1 title "decide(client address, ...)", \
       f skip 1 using ((is(1,"patterns") && is(2,"decideInRole")) ? $3 : 1/0):5 with linespoints ls 2 title "decide(role, ...)"
  set xlabel "roles (10,000 patterns in all, client in the last)"; set ylabel "ns per decision (log)"
  set logscale y; set yrange [*:*]
  plot f skip 1 using ((is(1,"roles") && is(2,"decideForClient")) ? $4 : 1/0):5 with linespoints ls 1 title "decide(client address, ...)", \
       f skip 1 using ((is(1,"roles") && is(2,"decideInRole")) ? $4 : 1/0):5 with linespoints ls 2 title "decide(role, ...)"
  set key bottom right
  unset multiplot
  unset logscale; set yrange [*:*]
}

f = dir . "/heap.tsv"
if (present(f)) {
  set output out . "/scale-policy-heap.png"
  set multiplot layout 1,2 title "Heap held by a policy (config + route table) and the time to load it"
  set logscale xy; set xlabel "host patterns (one role)"; set ylabel "MiB (log)"; set y2label "load ms (log)"
  set y2tics; set logscale y2
  plot f skip 1 using (is(2,"1") ? $1 : 1/0):($3/1048576) with linespoints ls 1 title "heap MiB", \
       f skip 1 using (is(2,"1") ? $1 : 1/0):4 axes x1y2 with linespoints ls 4 title "load ms (right)"
  set xlabel "roles (10,000 patterns in all)"
  plot f skip 1 using ($1 == 10000 ? $2 : 1/0):($3/1048576) with linespoints ls 1 title "heap MiB", \
       f skip 1 using ($1 == 10000 ? $2 : 1/0):4 axes x1y2 with linespoints ls 4 title "load ms (right)"
  unset multiplot
  unset logscale; unset y2tics; unset y2label
}

f = dir . "/tunnels.tsv"
if (present(f)) {
  set output out . "/scale-tunnels.png"
  set multiplot layout 1,2 title "Idle TLS tunnels held through the SNI listener (each proxy in a fresh process)"
  set xlabel "tunnels held"; set ylabel "RSS MiB"; set yrange [0:*]
  plot for [t in "mesh-egress nginx haproxy"] f skip 1 using (is(1,t) ? $2 : 1/0):($3/1024) with linespoints ls style(t) title t
  set ylabel "CPU µs per tunnel opened (since the last point)"
  plot for [t in "mesh-egress nginx haproxy"] f skip 1 using (is(1,t) ? $2 : 1/0):5 with linespoints ls style(t) title t
  unset multiplot
  set yrange [*:*]
}

f = dir . "/dns.tsv"
if (present(f)) {
  set output out . "/scale-dns.png"
  set multiplot layout 1,2 title "New TLS connections (SNI) to names in no DNS cache"
  set xlabel "connections whose name is in no cache (%)"; set ylabel "proxy CPU µs per connection"; set yrange [0:*]
  set xrange [-5:105]
  plot for [t in "mesh-egress nginx haproxy"] f skip 1 using (is(1,t) ? $2 : 1/0):4 with linespoints ls style(t) title t
  set ylabel "connections/s"
  plot for [t in "mesh-egress nginx haproxy"] f skip 1 using (is(1,t) ? $2 : 1/0):3 with linespoints ls style(t) title t
  unset multiplot
  set xrange [*:*]; set yrange [*:*]
}

f = dir . "/loops-median.tsv"
if (present(f)) {
  set output out . "/scale-loops.png"
  set multiplot layout 1,2 title "HTTP (1 KiB, keep-alive) against event loops / workers / threads, 2 CPUs shared with the load"
  set xlabel "event loops / worker_processes / nbthread"; set xtics (1, 2, 4)
  set ylabel "req/s (median)"; set yrange [0:*]; set logscale x 2
  plot for [t in "mesh-egress nginx haproxy"] f skip 1 using (is(1,t) ? $2 : 1/0):3 with linespoints ls style(t) title t
  set ylabel "proxy CPU µs per request"
  plot for [t in "mesh-egress nginx haproxy"] f skip 1 using (is(1,t) ? $2 : 1/0):4 with linespoints ls style(t) title t
  unset multiplot
}
