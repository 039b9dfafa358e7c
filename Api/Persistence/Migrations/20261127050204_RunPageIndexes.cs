using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Experiments.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RunPageIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Runs_CreatedAt",
                table: "Runs");

            migrationBuilder.DropIndex(
                name: "IX_Runs_Status_CreatedAt",
                table: "Runs");

            migrationBuilder.CreateIndex(
                name: "IX_Runs_CreatedAt_Id",
                table: "Runs",
                columns: new[] { "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Runs_Status_CreatedAt_Id",
                table: "Runs",
                columns: new[] { "Status", "CreatedAt", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Runs_CreatedAt_Id",
                table: "Runs");

            migrationBuilder.DropIndex(
                name: "IX_Runs_Status_CreatedAt_Id",
                table: "Runs");

            migrationBuilder.CreateIndex(
                name: "IX_Runs_CreatedAt",
                table: "Runs",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_Runs_Status_CreatedAt",
                table: "Runs",
                columns: new[] { "Status", "CreatedAt" });
        }
    }
}
