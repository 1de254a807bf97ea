package io.meshegress.docs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Anchors GitHub publishes for known headings: the examples of GitHub Docs' "Section links" and the expected
 * values of html-pipeline's table-of-contents tests (the filter GitHub used to render them).
 */
class GithubSluggerTest {
    @Test
    void githubDocsExamples() {
        GithubSlugger slugger = new GithubSlugger();
        assertThat(slugger.slug("Example headings")).isEqualTo("example-headings");
        assertThat(slugger.slug("Sample Section")).isEqualTo("sample-section");
        // "This'll be a _Helpful_ Section About the Greek Letter Θ!" rendered: the markup is gone before slugging.
        assertThat(slugger.slug("This'll be a Helpful Section About the Greek Letter Θ!"))
                .isEqualTo("thisll-be-a-helpful-section-about-the-greek-letter-θ");
        assertThat(slugger.slug("This heading is not unique in the file")).isEqualTo("this-heading-is-not-unique-in-the-file");
        assertThat(slugger.slug("This heading is not unique in the file")).isEqualTo("this-heading-is-not-unique-in-the-file-1");
    }

    @Test
    void htmlPipelineTableOfContentsExamples() {
        GithubSlugger slugger = new GithubSlugger();
        assertThat(slugger.slug("Dr Dre")).isEqualTo("dr-dre");
        assertThat(slugger.slug("Ice Cube")).isEqualTo("ice-cube");
        assertThat(slugger.slug("Eazy-E")).isEqualTo("eazy-e");
        assertThat(slugger.slug("MC Ren")).isEqualTo("mc-ren");
        assertThat(slugger.slug("\"Funky President\" by James Brown")).isEqualTo("funky-president-by-james-brown");
        assertThat(slugger.slug("\"It's My Thing\" by Marva Whitney")).isEqualTo("its-my-thing-by-marva-whitney");
        assertThat(slugger.slug("日本語")).isEqualTo("日本語");
        assertThat(slugger.slug("Dopeman")).isEqualTo("dopeman");
        assertThat(slugger.slug("Dopeman")).isEqualTo("dopeman-1");
        assertThat(slugger.slug("Dopeman")).isEqualTo("dopeman-2");
    }

    @Test
    void punctuationGoesButHyphensUnderscoresAndEverySpaceStay() {
        GithubSlugger slugger = new GithubSlugger();
        assertThat(slugger.slug("One listener for every TLS port (PROXY protocol)"))
                .isEqualTo("one-listener-for-every-tls-port-proxy-protocol");
        assertThat(slugger.slug("Adopting a policy safely: report, learn, enforce"))
                .isEqualTo("adopting-a-policy-safely-report-learn-enforce");
        assertThat(slugger.slug("a -- b  c_d")).isEqualTo("a----b--c_d");
        assertThat(slugger.slug("[0.1.0] - 2026-11-25")).isEqualTo("010---2026-11-25");
    }
}
